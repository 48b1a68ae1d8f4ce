package dev.spanwire.exporter.otel;

import dev.spanwire.bpf.KernelClock;
import dev.spanwire.exporter.counters.Counters;
import dev.spanwire.exporter.exchange.ExchangeFields;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.filter.WatchRule;
import dev.spanwire.semconv.AgentMetric;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.resources.Resource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * OpenTelemetry export of exchanges: spans through a {@link SpanBatcher}, HTTP metrics
 * aggregated per process and exported with the agent's own metrics by a {@link MetricsWorker}.
 * One SDK exporter per signal for all processes; each process is its own resource.
 *
 * <p>Two views feed it: {@link #metrics()} must see every exchange (the histograms stay
 * complete), {@link #spans()} only the exchanges the filters let through.
 */
public final class OtelSink {
  /** How long shutdown may spend flushing each signal. */
  public static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);

  private final ExportSettings settings;
  private final SpanBatcher batcher;
  private final HttpMetrics httpMetrics;
  private final SelfMetrics selfMetrics;
  private final MetricsWorker metricsWorker;
  private final KernelClock clock;
  private final dev.spanwire.exporter.counters.Counter sampledOut;

  private OtelSink(
      ExportSettings settings, SpanBatcher batcher, HttpMetrics httpMetrics, SelfMetrics selfMetrics,
      MetricsWorker metricsWorker, KernelClock clock, dev.spanwire.exporter.counters.Counter sampledOut) {
    this.sampledOut = sampledOut;
    this.settings = settings;
    this.batcher = batcher;
    this.httpMetrics = httpMetrics;
    this.selfMetrics = selfMetrics;
    this.metricsWorker = metricsWorker;
    this.clock = clock;
  }

  /**
   * Starts export with span attributes as the watch rule says: its headers added, only the fields
   * its field and value regexes match kept (a null rule keeps every field and adds no header). Its
   * own counters (spans exported, dropped, refused, export failures, queue) go to {@code counters},
   * and every metric of {@code counters} is exported as the agent's own.
   */
  public static OtelSink start(
      ExportSettings settings, KernelClock clock, String hostName, String version, Counters counters, WatchRule watch) {
    return start(settings, Exporters.of(settings), clock, hostName, version, counters, watch);
  }

  /**
   * The OTLP exporters the settings ask for, made and not yet used: making them loads and
   * initialises most of the SDK and its HTTP/2 client (half a second of a start), which the agent
   * does on another thread while the kernel verifies its programs. Touches no counters.
   */
  public record Exporters(SpanSender spans, MetricExporter metrics) {
    public static Exporters of(ExportSettings settings) {
      SpanSender spans = settings.traces() ? SpanSender.of(settings) : null;
      try {
        return new Exporters(spans, settings.metrics() ? OtlpExporters.metrics(settings) : null);
      } catch (RuntimeException | Error e) {
        if (spans != null) {
          spans.shutdown();
        }
        throw e;
      }
    }

    /** Gives back what they hold, when no sink is made of them. */
    public void shutdown() {
      if (spans != null) {
        spans.shutdown();
      }
      if (metrics != null) {
        metrics.shutdown();
      }
    }
  }

  /** {@link #start(ExportSettings, KernelClock, String, String, Counters, WatchRule)} with exporters made before. */
  public static OtelSink start(ExportSettings settings, Exporters exporters, KernelClock clock, String hostName,
      String version, Counters counters, WatchRule watch) {
    InstrumentationScopeInfo scope = InstrumentationScopeInfo.builder("spanwire").setVersion(version).build();
    ProcessResources resources = new ProcessResources(hostName);
    ExchangeFields fields = new ExchangeFields(settings.scheme(), watch == null ? List.of() : watch.headers());
    SpanBatcher batcher = exporters.spans() != null
        ? new SpanBatcher(exporters.spans(),
            new OtlpSpanEncoder(clock, fields, watch == null || !watch.filtersFields() ? null : watch::keep, resources, scope), settings)
        : null;
    HttpMetrics httpMetrics = settings.metrics()
        ? new HttpMetrics(settings.scheme(), resources, scope, clock, settings.cardinalityLimit(),
            pid -> Files.exists(Path.of("/proc", Integer.toString(pid))))
        : null;
    if (batcher != null) {
      counters.register(AgentMetric.SPANS_EXPORTED, batcher::exported);
      counters.register(AgentMetric.SPANS_DROPPED, batcher::dropped);
      counters.register(AgentMetric.SPANS_REJECTED, batcher::rejected);
      counters.register(AgentMetric.EXPORT_FAILURES, batcher::failures);
      counters.register(AgentMetric.EXPORT_CATCH_UPS, batcher::catchUps);
      counters.register(AgentMetric.QUEUE_SIZE, batcher::queued);
      counters.register(AgentMetric.QUEUE_CAPACITY, batcher::capacity);
    }
    SelfMetrics self = new SelfMetrics(agentResource(settings, hostName, version), scope,
        clock.toEpochNanos(KernelClock.monotonicNanos()), counters);
    MetricsWorker worker = exporters.metrics() != null
        ? new MetricsWorker(exporters.metrics(), () -> collect(httpMetrics, self, clock), settings)
        : null;
    return new OtelSink(settings, batcher, httpMetrics, self, worker, clock, counters.counter(AgentMetric.SPANS_SAMPLED_OUT));
  }

  /** Starts export with every field as a span attribute, counting into a registry of its own. */
  public static OtelSink start(ExportSettings settings, KernelClock clock, String hostName, String version) {
    return start(settings, clock, hostName, version, new Counters(), null);
  }

  private static List<MetricData> collect(HttpMetrics http, SelfMetrics self, KernelClock clock) {
    long monotonic = KernelClock.monotonicNanos();
    long now = clock.toEpochNanos(monotonic);
    List<MetricData> all = new ArrayList<>(http.collect(now, monotonic));
    all.addAll(self.collect(now));
    return all;
  }

  /** The agent's own resource: service.name spanwire (or OTEL_SERVICE_NAME), OTEL_RESOURCE_ATTRIBUTES. */
  static Resource agentResource(ExportSettings settings, String hostName, String version) {
    AttributesBuilder attributes = Attributes.builder();
    settings.agentResourceAttributes().forEach(attributes::put);
    attributes.put(ProcessResources.SERVICE_NAME, settings.agentServiceName());
    attributes.put("service.version", version);
    attributes.put(ProcessResources.HOST_NAME, hostName);
    attributes.put(ProcessResources.PROCESS_PID, ProcessHandle.current().pid());
    attributes.put(ProcessResources.PROCESS_EXECUTABLE_NAME, "java");
    return Resource.getDefault().merge(Resource.create(attributes.build()));
  }

  /** The view every exchange goes to: metrics. */
  public ExchangeSink metrics() {
    return httpMetrics == null ? ExchangeSink.NONE : httpMetrics::record;
  }

  /**
   * The view filtered exchanges go to: spans, of the traces the sampler kept (the rest cost only
   * a count). Called on one thread.
   */
  public ExchangeSink spans() {
    return batcher == null ? ExchangeSink.NONE : exchange -> {
      if (exchange.ids() != null && !exchange.ids().sampled()) {
        sampledOut.increment();
      } else {
        batcher.offer(exchange);
      }
    };
  }

  public long spansExported() {
    return batcher == null ? 0 : batcher.exported();
  }

  public long spansDropped() {
    return batcher == null ? 0 : batcher.dropped();
  }

  /** Spans the endpoint refused for good (also in {@link #spansDropped}). */
  public long spansRejected() {
    return batcher == null ? 0 : batcher.rejected();
  }

  public long exportFailures() {
    return (batcher == null ? 0 : batcher.failures()) + (metricsWorker == null ? 0 : metricsWorker.failures());
  }

  /** Asks both signals to export what they have now (tests, and before a planned stop). */
  public void flushSoon() {
    if (batcher != null) {
      batcher.requestFlush();
    }
    if (metricsWorker != null) {
      metricsWorker.requestExport();
    }
  }

  /** Flushes spans and metrics within {@link #SHUTDOWN_TIMEOUT} each, then closes the exporters. */
  public void shutdown() {
    if (batcher != null) {
      batcher.shutdown(SHUTDOWN_TIMEOUT).join(SHUTDOWN_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }
    if (metricsWorker != null) {
      metricsWorker.shutdown().join(SHUTDOWN_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public String toString() {
    return "OtelSink{" + settings + "}";
  }
}
