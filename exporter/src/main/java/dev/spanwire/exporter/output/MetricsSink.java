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
 * agent's own counters.
 *
 * <p>Aggregated, it takes exchanges on the pipeline thread itself (a map update under a lock, so no
 * exchange is lost to a slow stdout) and {@link #flush}, called by one emitting thread, writes the
 * interval's aggregates when it ends. Per exchange, it runs behind an {@link AsyncSink}: its points
 * are written as exchanges come (dropped and counted when output cannot keep up).
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
  /** The interval's aggregates; swapped out whole when written (guarded by this). */
  private Map<Series, Sum> series = new HashMap<>();
  /** Label sets past the bound (the pipeline thread counts them; read by any). */
  private final java.util.concurrent.atomic.AtomicLong seriesDropped = new java.util.concurrent.atomic.AtomicLong();
  private final Map<AgentMetric, Long> lastAgentValues = new EnumMap<>(AgentMetric.class);
  private long nextEmitNanos;

  /**
   * @param clock maps the kernel's monotonic times to wall time
   * @param monotonicNanos the interval's clock (kernel monotonic, as the exchanges' times)
   * @param agentCounters the agent's counters, written each interval when the settings ask
   * @param dropped counts points dropped per exchange past the writer (the writing thread writes it)
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

  /** Label sets dropped past {@link #MAX_SERIES} in an interval, all intervals together. */
  public long seriesDropped() {
    return seriesDropped.get();
  }

  @Override
  public void onExchange(Exchange exchange) {
    if (!settings.perExchange()) {
      synchronized (this) {
        aggregate(exchange);
      }
      return;
    }
    perExchange(exchange);
    tick();
  }

  private void aggregate(Exchange exchange) {
    if (exchange.response() == null) {
      return;
    }
    ProcessInfo process = exchange.connection().process();
    String method = exchange.request().method();
    String target = RouteTemplate.of(exchange.request().target());
    String duration = exchange.role() == Role.CLIENT ? "http.client.duration" : "http.server.duration";
    add(new Series("http.requests", process, method, target, exchange.statusCode()), 1);
    add(new Series(duration, process, method, target, 0), exchange.durationNanos() / 1e6);
    if (exchange.request().declaredLength() >= 0) {
      add(new Series("http.request.content_length", process, method, target, 0), exchange.request().declaredLength());
    }
    if (exchange.response().declaredLength() >= 0) {
      add(new Series("http.response.content_length", process, method, target, 0), exchange.response().declaredLength());
    }
  }

  private void perExchange(Exchange exchange) {
    if (exchange.response() == null) {
      return;
    }
    ProcessInfo process = exchange.connection().process();
    String method = exchange.request().method();
    String target = RouteTemplate.of(exchange.request().target());
    int status = exchange.statusCode();
    String duration = exchange.role() == Role.CLIENT ? "http.client.duration" : "http.server.duration";
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
  }

  private void add(Series key, double value) {
    Sum sum = series.get(key);
    if (sum == null) {
      if (series.size() >= MAX_SERIES) {
        seriesDropped.incrementAndGet();
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
    Map<Series, Sum> interval;
    synchronized (this) {
      interval = series;
      series = new HashMap<>();
    }
    for (Map.Entry<Series, Sum> entry : interval.entrySet()) {
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

  /** Serialises the emitting thread's ticks and close. */
  private final Object emitting = new Object();
  private volatile boolean closed;
  private Thread ticker;

  /**
   * Aggregated output: a daemon thread writes each interval when it ends (checking every 100 ms);
   * exchanges keep coming on the pipeline thread meanwhile.
   */
  public MetricsSink startTicking() {
    ticker = Thread.ofPlatform().name("spanwire-metrics").daemon().start(() -> {
      while (!closed) {
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
        synchronized (emitting) {
          if (!closed) {
            try {
              flush();
            } catch (RuntimeException e) {
              System.getLogger(MetricsSink.class.getName()).log(System.Logger.Level.WARNING, "metric output failed", e);
            }
          }
        }
      }
    });
    return this;
  }

  /** At shutdown: what the current interval gathered leaves now. */
  @Override
  public void close() {
    synchronized (emitting) {
      if (closed) {
        return;
      }
      closed = true;
      emit();
      writer.close();
    }
    if (ticker != null) {
      ticker.interrupt();
    }
  }

  @Override
  public String toString() {
    return "MetricsSink{" + settings.output() + "}";
  }
}
