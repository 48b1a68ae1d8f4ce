package dev.spanwire.exporter.otel;

import dev.spanwire.exporter.exchange.HttpExchange;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Exports spans in batches, shaped like the SDK's BatchSpanProcessor: exchanges wait in a bounded
 * queue (more are dropped and counted, the pipeline never waits), a daemon worker turns up to
 * {@code maxExportBatchSize} of them into spans and exports them when the batch is full or
 * {@code scheduleDelay} has passed.
 *
 * <p>Unlike the SDK's processor it does not give up on a batch the endpoint refused: it retries
 * the same batch with exponential backoff (1 s doubling to 30 s) until the endpoint answers, so an
 * outage loses only what the queue cannot hold, and export resumes by itself. {@link #shutdown}
 * exports what is queued within its deadline and counts the rest as dropped.
 */
final class SpanBatcher {
  private static final System.Logger LOG = System.getLogger(SpanBatcher.class.getName());
  static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
  static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
  /** The worker looks at flush and shutdown requests this often (it is never interrupted). */
  private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final SpanExporter exporter;
  private final Function<HttpExchange, SpanData> toSpan;
  private final int maxExportBatchSize;
  private final long scheduleDelayNanos;
  private final Duration exportTimeout;
  private final BlockingQueue<HttpExchange> queue;
  private final Thread worker;
  private final AtomicLong exported = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong conversionFailures = new AtomicLong();
  private final String endpoint;
  private volatile boolean shuttingDown;
  private volatile long shutdownDeadlineNanos = Long.MAX_VALUE;
  private volatile boolean flushRequested;
  private boolean endpointDown;

  SpanBatcher(
      SpanExporter exporter,
      Function<HttpExchange, SpanData> toSpan,
      ExportSettings settings) {
    this.exporter = exporter;
    this.toSpan = toSpan;
    this.maxExportBatchSize = settings.maxExportBatchSize();
    this.scheduleDelayNanos = settings.scheduleDelay().toNanos();
    this.exportTimeout = settings.timeout();
    this.endpoint = settings.tracesEndpoint();
    this.queue = new ArrayBlockingQueue<>(settings.maxQueueSize());
    this.worker = Thread.ofPlatform().name("spanwire-span-export").daemon().start(this::run);
  }

  /** Queues an exchange for export; false (and counted) when the queue is full. */
  boolean offer(HttpExchange exchange) {
    if (shuttingDown || !queue.offer(exchange)) {
      dropped.incrementAndGet();
      return false;
    }
    return true;
  }

  long exported() {
    return exported.get();
  }

  long dropped() {
    return dropped.get();
  }

  /** Exports the endpoint refused or timed out (each retry counts). */
  long failures() {
    return failures.get();
  }

  int queued() {
    return queue.size();
  }

  int capacity() {
    return queue.size() + queue.remainingCapacity();
  }

  /** Asks the worker to export what is queued now rather than at the next delay. */
  void requestFlush() {
    flushRequested = true;
  }

  private void run() {
    List<HttpExchange> batch = new ArrayList<>(maxExportBatchSize);
    while (true) {
      long batchDeadline = System.nanoTime() + scheduleDelayNanos;
      try {
        while (batch.size() < maxExportBatchSize && !shuttingDown && !flushRequested) {
          long wait = batchDeadline - System.nanoTime();
          if (wait <= 0) {
            break;
          }
          HttpExchange next = queue.poll(Math.min(wait, SLICE_NANOS), TimeUnit.NANOSECONDS);
          if (next != null) {
            batch.add(next);
            queue.drainTo(batch, maxExportBatchSize - batch.size());
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      flushRequested = false;
      queue.drainTo(batch, maxExportBatchSize - batch.size());
      if (!batch.isEmpty()) {
        exportWithRetry(spans(batch));
        batch.clear();
      }
      if (shuttingDown && (queue.isEmpty() || System.nanoTime() > shutdownDeadlineNanos)) {
        dropped.addAndGet(queue.size());
        queue.clear();
        return;
      }
    }
  }

  private List<SpanData> spans(List<HttpExchange> batch) {
    List<SpanData> spans = new ArrayList<>(batch.size());
    for (HttpExchange exchange : batch) {
      try {
        spans.add(toSpan.apply(exchange));
      } catch (RuntimeException e) {
        if (conversionFailures.getAndIncrement() == 0) {
          LOG.log(System.Logger.Level.WARNING, "could not build a span (counted as dropped)", e);
        }
        dropped.incrementAndGet();
      }
    }
    return spans;
  }

  /** Exports one batch, retrying with backoff until it succeeds or shutdown's deadline passes. */
  private void exportWithRetry(List<SpanData> spans) {
    Duration backoff = FIRST_BACKOFF;
    while (true) {
      CompletableResultCode result = exporter.export(spans);
      result.join(exportTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
      if (result.isSuccess()) {
        exported.addAndGet(spans.size());
        if (endpointDown) {
          endpointDown = false;
          LOG.log(System.Logger.Level.INFO, "OTLP span export to {0} works again", endpoint);
        }
        return;
      }
      failures.incrementAndGet();
      if (!endpointDown) {
        endpointDown = true;
        LOG.log(
            System.Logger.Level.WARNING,
            "OTLP span export to {0} failed{1}; retrying with backoff, spans beyond the queue of {2,number,#} are dropped (counted)",
            endpoint,
            result.getFailureThrowable() == null ? "" : ": " + result.getFailureThrowable().getMessage(),
            capacity());
      }
      long sleepUntil = System.nanoTime() + backoff.toNanos();
      if (sleepUntil > shutdownDeadlineNanos) {
        dropped.addAndGet(spans.size());
        return;
      }
      sleepUntil(sleepUntil);
      backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    }
  }

  /** Sleeps in slices until the deadline, or shutdown's deadline if earlier. */
  private void sleepUntil(long deadlineNanos) {
    long left;
    while ((left = Math.min(deadlineNanos, shutdownDeadlineNanos) - System.nanoTime()) > 0) {
      try {
        TimeUnit.NANOSECONDS.sleep(Math.min(left, SLICE_NANOS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * Exports what is queued, within {@code timeout}; what is left then is dropped (counted). Then
   * shuts the exporter down.
   */
  CompletableResultCode shutdown(Duration timeout) {
    shutdownDeadlineNanos = System.nanoTime() + timeout.toNanos();
    shuttingDown = true;
    try {
      worker.join(timeout.toMillis() + 2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return exporter.shutdown();
  }

  @Override
  public String toString() {
    return "SpanBatcher{" + endpoint + ", queued " + queue.size() + ", exported " + exported + ", dropped " + dropped
        + ", failures " + failures + "}";
  }
}
