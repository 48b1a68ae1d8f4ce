package dev.spanwire.exporter.otel;

import dev.spanwire.bpf.CatchUp;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.HandOffQueue;
import io.opentelemetry.sdk.common.CompletableResultCode;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Exports spans in batches, shaped like the SDK's BatchSpanProcessor: exchanges wait in a queue
 * bounded by count ({@code maxQueueSize}) and by the heap they hold ({@link #MAX_QUEUE_BYTES}:
 * captured bodies make an exchange megabytes); more are dropped and counted, the pipeline never
 * waits, and an endpoint that is down cannot fill the heap; a daemon worker encodes up to
 * {@code maxExportBatchSize} of them straight into one OTLP request ({@link OtlpSpanEncoder}, into
 * a buffer it reuses) and sends it when the batch is full or {@code scheduleDelay} has passed.
 *
 * <p>There are {@code maxConcurrentExports} such workers. One at a time fills and encodes a batch;
 * the others send theirs meanwhile and wait for the answers, so that many requests are in flight
 * at once, and an endpoint a round trip away takes that many batches per round trip rather than
 * one (an endpoint 20 ms away takes at most 25,600 spans a second one batch at a time).
 *
 * <p>Unlike the SDK's processor it does not give up on a batch the endpoint could take later: it
 * retries the same batch, after the delay the endpoint asked for (RetryInfo, Retry-After) or with
 * exponential backoff (1 s doubling to 30 s), until the endpoint answers, so an outage loses only
 * what the queue cannot hold, and export resumes by itself. What the endpoint refuses for good
 * (OTLP's non-retryable codes, and the spans a partial success rejects) is dropped and counted, and a
 * batch is sent in requests small enough for the endpoint's message limit, split further when it
 * says a request was too large. {@link #shutdown} exports what is queued within its deadline and
 * counts the rest as dropped.
 *
 * <p>A worker that starts a batch with the queue more than a quarter full runs at the catch-up nice
 * value ({@code capture.catch-up-nice}, as the ring buffer reader does) until it starts one with an
 * eighth or less, so that a worker still cold from the start, or held back by the scheduler's fair
 * share on cores the traced services keep busy, gets the CPU to drain the queue before it
 * overflows. A worker that keeps up keeps its own value. (The spans {@code bench/load.sh -x} once
 * dropped in an agent's first two seconds were its receiver's: a cold JVM that answered the first
 * request ~0.85 s late.)
 */
final class SpanBatcher {
  private static final System.Logger LOG = System.getLogger(SpanBatcher.class.getName());
  static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
  static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
  /** The longest wait an endpoint's RetryInfo or Retry-After is granted. */
  static final Duration MAX_ASKED_DELAY = Duration.ofMinutes(5);
  /** Requests stay below the 4 MiB a gRPC server (the Collector's default) takes. */
  static final long DEFAULT_MAX_BATCH_BYTES = 3L << 20;
  /**
   * The heap queued exchanges may hold (estimated by {@link HandOffQueue#heldBytes(Exchange)}): an
   * eighth of the JVM's; with the launcher's 32 MiB, 4 MiB: 2,048 exchanges of 2 KiB, or one with
   * 2 MiB of captured bodies. The batch being sent holds about {@link #DEFAULT_MAX_BATCH_BYTES} at
   * most (one exchange more), and so does the request it is encoded into.
   */
  static final long MAX_QUEUE_BYTES = Runtime.getRuntime().maxMemory() / 8;
  /** The request buffer's size at first (it grows for a batch that needs more). */
  private static final int MESSAGE_CAPACITY = 1 << 16;
  /**
   * The most a request buffer keeps between batches: a batch of 512 ordinary spans (about 280 KB)
   * keeps its buffer, which growing again for every batch cost a tenth of the export thread; one
   * that captured bodies made megabytes goes back to {@link #MESSAGE_CAPACITY}.
   */
  private static final int KEPT_MESSAGE_CAPACITY = 1 << 19;
  /** A single span the endpoint calls too large is tried this often more, then dropped. */
  private static final int MAX_TOO_LARGE_RETRIES = 3;
  private static final long REJECTION_LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
  /** The worker looks at flush and shutdown requests this often (it is never interrupted). */
  private static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final SpanSender sender;
  /** Used by one worker at a time (its caches are not for threads). */
  private final OtlpSpanEncoder encoder;
  private final int maxExportBatchSize;
  private final long scheduleDelayNanos;
  private final Duration exportTimeout;
  private final HandOffQueue<Exchange> queue;
  private final List<Thread> workers = new ArrayList<>();
  /** Held by the worker filling a batch: the queue has one taker, and batches are whole. */
  private final Object filling = new Object();
  private final AtomicLong exported = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final AtomicLong conversionFailures = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  /** The catch-up nice value (0: never changes a worker's). */
  private final int catchUpNice;
  private final AtomicLong catchUps = new AtomicLong();
  private final long maxBatchBytes;
  private final AtomicLong nextRejectionLogNanos = new AtomicLong(System.nanoTime());
  private final String endpoint;
  private volatile boolean shuttingDown;
  private volatile long shutdownDeadlineNanos = Long.MAX_VALUE;
  private volatile boolean flushRequested;
  private final java.util.concurrent.atomic.AtomicBoolean endpointDown = new java.util.concurrent.atomic.AtomicBoolean();
  /**
   * Batches waiting to be sent again (the endpoint is down or busy). While there are any, no
   * worker takes more from the queue: an outage holds one batch outside the queue, not one per
   * worker, and the endpoint is probed by one request, not all of them.
   */
  private final java.util.concurrent.atomic.AtomicInteger retrying = new java.util.concurrent.atomic.AtomicInteger();
  /** The heap the batch being filled holds, as {@link HandOffQueue#heldBytes(Exchange)} estimates (under {@link #filling}). */
  private long batchBytes;
  /** Taken from the queue when the batch it came for was full by bytes: the next batch's first (under {@link #filling}). */
  private Exchange carried;
  private final RetryPause pause;

  /** How the worker waits before retrying a batch; a test records the waits instead. */
  @FunctionalInterface
  interface RetryPause {
    void pause(Duration wait);
  }

  SpanBatcher(SpanSender sender, OtlpSpanEncoder encoder, ExportSettings settings) {
    this(sender, encoder, settings, null);
  }

  /** With {@code pause} null the worker sleeps each wait (cut short by shutdown's deadline). */
  SpanBatcher(SpanSender sender, OtlpSpanEncoder encoder, ExportSettings settings, RetryPause pause) {
    this(sender, encoder, settings, pause, MAX_QUEUE_BYTES);
  }

  SpanBatcher(SpanSender sender, OtlpSpanEncoder encoder, ExportSettings settings, RetryPause pause, long maxQueueBytes) {
    this.pause = pause == null ? wait -> sleepUntil(System.nanoTime() + wait.toNanos()) : pause;
    this.sender = sender;
    this.encoder = encoder;
    this.maxExportBatchSize = settings.maxExportBatchSize();
    this.maxBatchBytes = DEFAULT_MAX_BATCH_BYTES;
    this.scheduleDelayNanos = settings.scheduleDelay().toNanos();
    this.exportTimeout = settings.timeout();
    this.endpoint = settings.tracesEndpoint();
    this.queue = new HandOffQueue<>(settings.maxQueueSize(), maxQueueBytes, HandOffQueue::heldBytes);
    this.catchUpNice = settings.catchUpNice();
    for (int i = 1; i <= settings.maxConcurrentExports(); i++) {
      workers.add(Thread.ofPlatform().name(i == 1 ? "spanwire-span-export" : "spanwire-span-export-" + i).daemon().start(this::run));
    }
  }

  /** Queues an exchange for export; false (and counted) when the queue is full. */
  boolean offer(Exchange exchange) {
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

  /** Spans the endpoint refused for good (also counted as dropped). */
  long rejected() {
    return rejected.get();
  }

  /** Exports the endpoint refused or timed out (each retry counts). */
  long failures() {
    return failures.get();
  }

  int queued() {
    return queue.size();
  }

  int capacity() {
    return queue.capacity();
  }

  /** Asks the worker to export what is queued now rather than at the next delay. */
  void requestFlush() {
    flushRequested = true;
  }

  private void run() {
    List<Exchange> batch = new ArrayList<>(maxExportBatchSize);
    // the request being sent, reused from batch to batch
    ProtoWriter message = new ProtoWriter(MESSAGE_CAPACITY);
    CatchUp catchUp = new CatchUp("span export", catchUpNice, catchUps);
    while (true) {
      List<Exchange> spans;
      synchronized (filling) {
        catchUp.adjust(queue.fill());
        if (!fillBatch(batch)) {
          return;
        }
        spans = batch.isEmpty() ? batch : withoutFailures(batch, message);
      }
      if (!spans.isEmpty()) {
        exportBatch(spans, message);
      }
      batch.clear();
      message.release(KEPT_MESSAGE_CAPACITY, MESSAGE_CAPACITY);
      if (shuttingDown) {
        synchronized (filling) {
          if ((queue.isEmpty() && carried == null) || System.nanoTime() > shutdownDeadlineNanos) {
            dropped.addAndGet(queue.clear() + (carried == null ? 0 : 1));
            carried = null;
            return;
          }
        }
      }
    }
  }

  /** Times a worker found the queue behind and ran at the catch-up nice value (see {@link CatchUp}). */
  long catchUps() {
    return catchUps.get();
  }

  /**
   * Fills {@code batch} (holding {@link #filling}) until it is full, {@code scheduleDelay} has
   * passed, a flush is asked for or shutdown begins; false when the worker was interrupted.
   */
  private boolean fillBatch(List<Exchange> batch) {
    long batchDeadline = System.nanoTime() + scheduleDelayNanos;
    batchBytes = 0;
    if (carried != null) {
      Exchange first = carried;
      carried = null;
      take(batch, first);
    }
    // woken when a batch's worth is queued (by count or by bytes), not by every exchange
    while (!batchFull(batch) && !shuttingDown && !flushRequested) {
      if (batch.isEmpty() && retrying.get() > 0) {
        awaitNoRetries();
        if (Thread.currentThread().isInterrupted()) {
          return false;
        }
        batchDeadline = System.nanoTime() + scheduleDelayNanos;
        continue;
      }
      fill(batch);
      long wait = batchDeadline - System.nanoTime();
      if (batchFull(batch) || wait <= 0) {
        break;
      }
      queue.awaitAtLeast(maxExportBatchSize - batch.size(), Math.max(1, maxBatchBytes - batchBytes),
          Math.min(wait, SLICE_NANOS));
      if (Thread.interrupted()) {
        return false;
      }
    }
    flushRequested = false;
    fill(batch);
    return true;
  }

  /**
   * Full by count, or by the heap its exchanges hold (captured bodies): the next would pass the
   * request bound. So the request encoded of it is about that bound, not megabytes per span times
   * 512, and what is taken from the queue while the endpoint is down stays bounded.
   */
  private boolean batchFull(List<Exchange> batch) {
    return batch.size() >= maxExportBatchSize || carried != null;
  }

  /** Waits (a slice at most) for the batches being retried to be sent or given up. */
  private void awaitNoRetries() {
    synchronized (retrying) {
      if (retrying.get() > 0 && !shuttingDown) {
        try {
          retrying.wait(TimeUnit.NANOSECONDS.toMillis(SLICE_NANOS));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /** Into the batch, or, when it would pass the request bound, kept to start the next one. */
  private void take(List<Exchange> batch, Exchange exchange) {
    long held = HandOffQueue.heldBytes(exchange);
    if (!batch.isEmpty() && batchBytes + held > maxBatchBytes) {
      carried = exchange;
      return;
    }
    batch.add(exchange);
    batchBytes += held;
  }

  private void fill(List<Exchange> batch) {
    if (batch.isEmpty()) {
      // a batch begins only while none is retried: the check and the take under the gate's
      // monitor, which raising it takes too, so one who saw a failure counted sees no batch begin
      Exchange first;
      synchronized (retrying) {
        if (retrying.get() > 0 && !shuttingDown) {
          return;
        }
        first = queue.poll();
      }
      if (first == null) {
        return;
      }
      take(batch, first);
    }
    Exchange next;
    while (!batchFull(batch) && (next = queue.poll()) != null) {
      take(batch, next);
    }
  }

  /**
   * Sends {@code spans}, already encoded into {@code message}; only a request over the size bound
   * is encoded again, in halves.
   */
  private void exportBatch(List<Exchange> spans, ProtoWriter message) {
    if (message.size() > maxBatchBytes && spans.size() > 1) {
      int half = spans.size() / 2;
      exportBySize(spans.subList(0, half), message);
      exportBySize(spans.subList(half, spans.size()), message);
    } else {
      exportWithRetry(spans, message);
    }
  }

  private void encode(List<Exchange> exchanges, ProtoWriter message, OtlpSpanEncoder.Failures failures) {
    synchronized (encoder) {
      encoder.encode(exchanges, message, failures);
    }
  }

  /**
   * The batch, encoded once: an exchange that cannot become a span is dropped (counted, its
   * cause logged once) and left out, so a request split later never meets it again.
   */
  private List<Exchange> withoutFailures(List<Exchange> batch, ProtoWriter message) {
    List<Exchange> failed = new ArrayList<>(0);
    encode(batch, message, (exchange, e) -> {
      if (conversionFailures.getAndIncrement() == 0) {
        LOG.log(System.Logger.Level.WARNING, "could not build a span (counted as dropped)", e);
      }
      dropped.incrementAndGet();
      failed.add(exchange);
    });
    if (failed.isEmpty()) {
      return batch;
    }
    List<Exchange> rest = new ArrayList<>(batch);
    rest.removeAll(failed);
    encode(rest, message, (exchange, e) -> dropped.incrementAndGet());
    return rest;
  }

  /** What the endpoint's answer to a failed export asks of the sender (OTLP's failure rules). */
  enum Failure {
    /** Try the same request again later: the endpoint is away or busy. */
    RETRYABLE,
    /** The request was too large: send its spans in smaller requests. */
    TOO_LARGE,
    /** The endpoint will never take this request: drop it. */
    PERMANENT
  }

  /**
   * What the endpoint's refusal asked for ({@link SpanSender#grpcFailure}, {@link
   * SpanSender#httpFailure}); no answer at all (refused, reset, timed out) is retryable.
   */
  static Failure classify(Throwable failure) {
    return failure instanceof SpanSender.Refusal refusal ? refusal.failure() : Failure.RETRYABLE;
  }

  /**
   * Sends the spans of {@code exchanges} in requests of at most {@code maxBatchBytes} each: the
   * request is encoded, and one that came out larger is split in halves.
   */
  private void exportBySize(List<Exchange> exchanges, ProtoWriter message) {
    if (exchanges.isEmpty()) {
      return;
    }
    encode(exchanges, message, (exchange, e) -> dropped.incrementAndGet());
    if (message.size() > maxBatchBytes && exchanges.size() > 1) {
      int half = exchanges.size() / 2;
      exportBySize(exchanges.subList(0, half), message);
      exportBySize(exchanges.subList(half, exchanges.size()), message);
      return;
    }
    exportWithRetry(exchanges, message);
  }

  /**
   * Exports one batch: retrying with backoff what the endpoint may take later (until it does or
   * shutdown's deadline passes), splitting what was too large, dropping (and counting) what it
   * refuses for good.
   */
  private void exportWithRetry(List<Exchange> spans, ProtoWriter message) {
    boolean[] waiting = new boolean[1];
    try {
      exportWithRetry(spans, message, waiting);
    } finally {
      if (waiting[0] && retrying.decrementAndGet() == 0) {
        synchronized (retrying) {
          retrying.notifyAll();
        }
      }
    }
  }

  /** {@code waiting[0]} is set, and {@link #retrying} counts this batch, from its first pause on. */
  private void exportWithRetry(List<Exchange> spans, ProtoWriter message, boolean[] waiting) {
    Duration backoff = FIRST_BACKOFF;
    int tooLargeAlone = 0;
    while (true) {
      // the request of these spans is in the buffer: sent again as it is after a failure
      ProtoReader.PartialSuccess answer = null;
      Throwable cause;
      try {
        answer = sender.send(message).get(exportTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        cause = null;
      } catch (ExecutionException e) {
        cause = e.getCause();
      } catch (TimeoutException e) {
        cause = new java.io.IOException("no answer within " + exportTimeout.toMillis() + " ms");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        dropped.addAndGet(spans.size());
        return;
      }
      if (answer != null) {
        accepted(spans.size(), answer);
        if (endpointDown.compareAndSet(true, false)) {
          LOG.log(System.Logger.Level.INFO, "OTLP span export to {0} works again", endpoint);
        }
        return;
      }
      Failure failure = classify(cause);
      if (failure == Failure.TOO_LARGE && spans.size() > 1) {
        failures.incrementAndGet();
        int half = spans.size() / 2;
        exportBySize(spans.subList(0, half), message);
        exportBySize(spans.subList(half, spans.size()), message);
        return;
      }
      if (failure == Failure.PERMANENT || (failure == Failure.TOO_LARGE && ++tooLargeAlone > MAX_TOO_LARGE_RETRIES)) {
        failures.incrementAndGet();
        rejected.addAndGet(spans.size());
        dropped.addAndGet(spans.size());
        if (rejectionLogDue()) {
          LOG.log(System.Logger.Level.WARNING,
              "OTLP span export to {0} refused {1} spans for good{2}; dropped (counted), export goes on",
              endpoint, spans.size(), cause == null ? "" : ": " + cause.getMessage());
        }
        return;
      }
      if (endpointDown.compareAndSet(false, true)) {
        LOG.log(
            System.Logger.Level.WARNING,
            "OTLP span export to {0} failed{1}; retrying with backoff, spans beyond the queue of {2,number,#} are dropped (counted)",
            endpoint,
            cause == null ? "" : ": " + cause.getMessage(),
            capacity());
      }
      // the endpoint's own delay (RetryInfo, Retry-After) when it gave one, else the backoff
      Duration asked = cause instanceof SpanSender.Refusal refusal ? refusal.retryDelay() : null;
      Duration wait = asked == null ? backoff : asked.compareTo(MAX_ASKED_DELAY) > 0 ? MAX_ASKED_DELAY : asked;
      if (System.nanoTime() + wait.toNanos() > shutdownDeadlineNanos) {
        failures.incrementAndGet();
        dropped.addAndGet(spans.size());
        return;
      }
      if (!waiting[0]) {
        waiting[0] = true;
        synchronized (retrying) {
          retrying.incrementAndGet();
        }
      }
      // counted once the gate is up (see fill)
      failures.incrementAndGet();
      pause.pause(wait);
      backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    }
  }

  /**
   * Counts an accepted request: the spans the endpoint said it rejected in a partial success are
   * dropped (and counted as rejected), its message logged at most once a minute.
   */
  private void accepted(int spans, ProtoReader.PartialSuccess answer) {
    long refused = Math.min(answer.rejected(), spans);
    exported.addAndGet(spans - refused);
    if (answer == ProtoReader.PartialSuccess.NONE) {
      return;
    }
    rejected.addAndGet(refused);
    dropped.addAndGet(refused);
    if (rejectionLogDue()) {
      LOG.log(System.Logger.Level.WARNING,
          "OTLP span export to {0} took a request but rejected {1} of its {2} spans: \"{3}\"; dropped (counted)",
          endpoint, refused, spans, answer.message());
    }
  }

  /** Whether a refusal is logged now: once a minute, whichever worker meets it. */
  private boolean rejectionLogDue() {
    long now = System.nanoTime();
    long due = nextRejectionLogNanos.get();
    return now - due >= 0 && nextRejectionLogNanos.compareAndSet(due, now + REJECTION_LOG_INTERVAL_NANOS);
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
   * shuts the exporter down, which cuts requests still waiting for the endpoint: their spans are
   * counted as dropped before this returns.
   */
  CompletableResultCode shutdown(Duration timeout) {
    shutdownDeadlineNanos = System.nanoTime() + timeout.toNanos();
    shuttingDown = true;
    joinWorkers(shutdownDeadlineNanos);
    CompletableResultCode result = sender.shutdown();
    joinWorkers(System.nanoTime() + TimeUnit.SECONDS.toNanos(2));
    return result;
  }

  private void joinWorkers(long deadlineNanos) {
    try {
      for (Thread worker : workers) {
        worker.join(Duration.ofNanos(Math.max(1_000_000, deadlineNanos - System.nanoTime())));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "SpanBatcher{" + endpoint + ", queued " + queue.size() + ", exported " + exported + ", dropped " + dropped
        + ", failures " + failures + "}";
  }
}
