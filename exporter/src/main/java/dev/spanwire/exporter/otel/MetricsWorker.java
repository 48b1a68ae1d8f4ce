package dev.spanwire.exporter.otel;

import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Exports the collected metrics every interval on a daemon thread. Values are cumulative, so an
 * export the endpoint refuses costs nothing: the next one carries the totals. {@link #shutdown}
 * exports once more before closing the exporter.
 */
final class MetricsWorker {
  private static final System.Logger LOG = System.getLogger(MetricsWorker.class.getName());
  private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final MetricExporter exporter;
  private final Supplier<List<MetricData>> collector;
  private final long intervalNanos;
  private final Duration timeout;
  private final String endpoint;
  private final Thread worker;
  private final AtomicLong exports = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private volatile boolean stopping;
  private volatile boolean exportNow;
  private boolean endpointDown;

  MetricsWorker(MetricExporter exporter, Supplier<List<MetricData>> collector, ExportSettings settings) {
    this.exporter = exporter;
    this.collector = collector;
    this.intervalNanos = settings.metricInterval().toNanos();
    this.timeout = settings.timeout();
    this.endpoint = settings.metricsEndpoint();
    this.worker = Thread.ofPlatform().name("spanwire-metric-export").daemon().start(this::run);
  }

  long exports() {
    return exports.get();
  }

  long failures() {
    return failures.get();
  }

  /** Asks for an export now rather than at the next interval. */
  void requestExport() {
    exportNow = true;
  }

  private void run() {
    long next = System.nanoTime() + intervalNanos;
    while (!stopping) {
      if (exportNow || System.nanoTime() >= next) {
        exportNow = false;
        next = System.nanoTime() + intervalNanos;
        export();
      }
      try {
        TimeUnit.NANOSECONDS.sleep(SLICE_NANOS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private synchronized void export() {
    List<MetricData> metrics;
    try {
      metrics = collector.get();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "collecting metrics failed", e);
      failures.incrementAndGet();
      return;
    }
    if (metrics.isEmpty()) {
      return;
    }
    CompletableResultCode result = exporter.export(metrics).join(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    if (result.isSuccess()) {
      exports.incrementAndGet();
      if (endpointDown) {
        endpointDown = false;
        LOG.log(System.Logger.Level.INFO, "OTLP metric export to {0} works again", endpoint);
      }
    } else {
      failures.incrementAndGet();
      if (!endpointDown) {
        endpointDown = true;
        LOG.log(System.Logger.Level.WARNING, "OTLP metric export to {0} failed; the next interval sends the totals again", endpoint);
      }
    }
  }

  /** A last export, then the exporter closes. */
  CompletableResultCode shutdown() {
    stopping = true;
    try {
      worker.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    export();
    return exporter.shutdown();
  }
}
