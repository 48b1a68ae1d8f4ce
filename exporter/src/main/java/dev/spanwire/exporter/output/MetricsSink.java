package dev.spanwire.exporter.output;

import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.counters.Counter;
import dev.spanwire.exporter.counters.Counters;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.exchange.RouteTemplate;
import dev.spanwire.semconv.AgentMetric;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * AppScope's HTTP metrics from every exchange: {@code http.requests} (counter, request),
 * {@code http.server.duration} / {@code http.client.duration} (timer, millisecond),
 * {@code http.request.content_length} / {@code http.response.content_length} (counter of bytes,
 * from Content-Length), each per process with the dimensions {@code http_method},
 * {@code http_target} (the route template, so the label sets stay few) and, for requests,
 * {@code http_status_code}. Aggregated over an interval as AppScope's summaries are (a timer's
 * value is the mean, {@code numops} how many), or one set per exchange; optionally with the
 * agent's own counters. Runs on one thread (an {@link AsyncSink}'s): {@link #flush} is its clock
 * tick when no exchange comes.
 */
public final class MetricsSink implements ExchangeSink {
  /** Label sets kept per interval; more are dropped and counted. */
  static final int MAX_SERIES = 10_000;

  /** One metric's value, as both formats write it. */
  public record Point(
      String metric, String type, double value, long numops, String unit, ProcessInfo process, List<Dimension> dims,
      boolean summary) {}

  /** A dimension: its AppScope name and value (a String or a Number). */
  public record Dimension(String name, Object value) {}

  /** Where points go: metric events or StatsD lines. */
  public interface Writer {
    /**
     * @param epochNanos the point's time
     */
    void write(Point point, long epochNanos);

    void flush();

    default void close() {
      flush();
    }
  }

  /** Metric events on {@code out}, one line each. */
  public static Writer jsonWriter(java.io.Writer out, String hostname) {
    return new JsonMetricWriter(out, hostname);
  }

  /** StatsD lines to {@code address} over UDP; lines that could not go count in {@code dropped}. */
  public static Writer statsdWriter(java.net.InetSocketAddress address, Counter dropped) {
    try {
      return new StatsdWriter(StatsdWriter.udp(address), dropped);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("metrics.statsd udp://" + address.getHostString() + ":" + address.getPort()
          + ": cannot open a UDP socket to it: " + e.getMessage(), e);
    }
  }

  private record Series(String metric, ProcessInfo process, String method, String target, int status) {}

  private static final class Sum {
    double total;
    long count;
  }

  private final MetricSettings settings;
  private final Writer writer;
  private final KernelClock clock;
  private final LongSupplier monotonicNanos;
  private final Counters agentCounters;
  private final ProcessInfo agentProcess;
  private final Counter dropped;
  private final Map<Series, Sum> series = new HashMap<>();
  private final Map<AgentMetric, Long> lastAgentValues = new EnumMap<>(AgentMetric.class);
  private long nextEmitNanos;

  /**
   * @param clock maps the kernel's monotonic times to wall time
   * @param monotonicNanos the interval's clock (kernel monotonic, as the exchanges' times)
   * @param agentCounters the agent's counters, written each interval when the settings ask
   * @param dropped counts points dropped: label sets past {@link #MAX_SERIES} (this thread writes it)
   */
  public MetricsSink(
      MetricSettings settings, Writer writer, KernelClock clock, LongSupplier monotonicNanos,
      Counters agentCounters, ProcessInfo agentProcess, Counter dropped) {
    this.settings = settings;
    this.writer = writer;
    this.clock = clock;
    this.monotonicNanos = monotonicNanos;
    this.agentCounters = agentCounters;
    this.agentProcess = agentProcess;
    this.dropped = dropped;
    this.nextEmitNanos = monotonicNanos.getAsLong() + settings.interval().toNanos();
  }

  @Override
  public void onExchange(Exchange exchange) {
    if (exchange.response() != null) {
      ProcessInfo process = exchange.connection().process();
      String method = exchange.request().method();
      String target = RouteTemplate.of(exchange.request().target());
      int status = exchange.statusCode();
      String duration = exchange.role() == Role.CLIENT ? "http.client.duration" : "http.server.duration";
      if (settings.perExchange()) {
        long at = clock.toEpochNanos(exchange.endNanos());
        List<Dimension> requestDims = List.of(
            new Dimension("http_method", method), new Dimension("http_target", target), new Dimension("http_status_code", status));
        List<Dimension> dims = requestDims.subList(0, 2);
        writer.write(new Point("http.requests", "counter", 1, -1, "request", process, requestDims, false), at);
        writer.write(new Point(duration, "timer", exchange.durationNanos() / 1e6, 1, "millisecond", process, dims, false), at);
        if (exchange.request().declaredLength() >= 0) {
          writer.write(new Point("http.request.content_length", "counter", exchange.request().declaredLength(), 1, "byte",
              process, dims, false), at);
        }
        if (exchange.response().declaredLength() >= 0) {
          writer.write(new Point("http.response.content_length", "counter", exchange.response().declaredLength(), 1, "byte",
              process, dims, false), at);
        }
      } else {
        add(new Series("http.requests", process, method, target, status), 1);
        add(new Series(duration, process, method, target, 0), exchange.durationNanos() / 1e6);
        if (exchange.request().declaredLength() >= 0) {
          add(new Series("http.request.content_length", process, method, target, 0), exchange.request().declaredLength());
        }
        if (exchange.response().declaredLength() >= 0) {
          add(new Series("http.response.content_length", process, method, target, 0), exchange.response().declaredLength());
        }
      }
    }
    tick();
  }

  private void add(Series key, double value) {
    Sum sum = series.get(key);
    if (sum == null) {
      if (series.size() >= MAX_SERIES) {
        dropped.increment();
        return;
      }
      sum = new Sum();
      series.put(key, sum);
    }
    sum.total += value;
    sum.count++;
  }

  /** Pushes out what is due: the interval's aggregates when it ended, and buffered lines. */
  @Override
  public void flush() {
    tick();
    writer.flush();
  }

  private void tick() {
    long now = monotonicNanos.getAsLong();
    if (now >= nextEmitNanos) {
      nextEmitNanos = now + settings.interval().toNanos();
      emit();
    }
  }

  /** Writes the interval's aggregates (and the agent's counters) and starts the next interval. */
  void emit() {
    long at = clock.toEpochNanos(monotonicNanos.getAsLong());
    for (Map.Entry<Series, Sum> entry : series.entrySet()) {
      Series s = entry.getKey();
      Sum sum = entry.getValue();
      List<Dimension> dims = new ArrayList<>(3);
      dims.add(new Dimension("http_method", s.method()));
      dims.add(new Dimension("http_target", s.target()));
      Point point = switch (s.metric()) {
        case "http.requests" -> {
          dims.add(new Dimension("http_status_code", s.status()));
          yield new Point(s.metric(), "counter", sum.total, -1, "request", s.process(), dims, true);
        }
        case "http.server.duration", "http.client.duration" ->
            new Point(s.metric(), "timer", sum.total / sum.count, sum.count, "millisecond", s.process(), dims, true);
        default -> new Point(s.metric(), "counter", sum.total, sum.count, "byte", s.process(), dims, true);
      };
      writer.write(point, at);
    }
    series.clear();
    if (settings.agent()) {
      agentCounters.forEach((metric, value) -> {
        long now = value.getAsLong();
        double shown = now;
        if (metric.counter()) {
          Long before = lastAgentValues.put(metric, now);
          shown = now - (before == null ? 0 : before);
        }
        writer.write(new Point(metric.metricName(), metric.counter() ? "counter" : "gauge", shown, -1,
            unit(metric.unit()), agentProcess, List.of(), true), at);
      });
    }
    writer.flush();
  }

  /** AppScope's unit words from UCUM: {span} -> span, By -> byte. */
  static String unit(String ucum) {
    if (ucum.equals("By")) {
      return "byte";
    }
    return ucum.startsWith("{") && ucum.endsWith("}") ? ucum.substring(1, ucum.length() - 1) : ucum;
  }

  /** At shutdown: what the current interval gathered leaves now. */
  @Override
  public void close() {
    emit();
    writer.close();
  }

  @Override
  public String toString() {
    return "MetricsSink{" + settings.output() + ", " + series.size() + " series}";
  }
}
