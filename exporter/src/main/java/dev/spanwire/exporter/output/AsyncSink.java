package dev.spanwire.exporter.output;

import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.HandOffQueue;
import dev.spanwire.exporter.exchange.Request;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Hands what the pipeline reports to a slower sink (a terminal, a pipe) on a daemon thread of
 * its own, through a queue bounded by items and by the heap they hold: when the queue is full the
 * item is dropped and counted, so the pipeline never waits and captured bodies cannot fill the heap. {@link #close} delivers what is queued (within a deadline), then closes
 * the delegate.
 */
public final class AsyncSink implements ExchangeSink {
  /**
   * The most items queued: what one burst of the reader (a ring buffer's backlog handed over at
   * once) brings, and not much more. What waits in the queue longer than two young collections is
   * promoted; a queue that held more than the young generation's survivor space (2 MiB with the
   * launcher's flags) filled the old generation with dead exchanges at every backlog (the cold
   * start), and the serial collector grows the old generation to its maximum before it collects
   * it, the pages then resident. Measured (bench/soak.sh, peak RSS and old generation; the live
   * table written to a file under bench/load.sh, rows dropped): 8,192 107-112 MiB, 16 MiB; 4,096
   * 106 MiB, 13 MiB, 0.04 % dropped; 2,048 98 MiB, 7 MiB, 2.4 %; 1,024 96-101 MiB, 6 MiB, 15-18 %.
   * Exchanges with captured bodies meet the byte bound first.
   */
  public static final int DEFAULT_CAPACITY = 2048;

  /**
   * The heap queued items may hold (estimated): an eighth of the JVM's; with the launcher's 32 MiB,
   * 4 MiB: 4,096 exchanges of 1 KiB, or one with 2 MiB of captured bodies.
   */
  public static final long DEFAULT_MAX_BYTES = Runtime.getRuntime().maxMemory() / 8;

  private record RequestSeen(ConnectionInfo connection, String version, Request request) {}

  private record Detected(ConnectionInfo connection, int fd, long timestampNanos) {}

  /** How long {@link #close} waits for the queue to drain. */
  public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

  private final ExchangeSink delegate;
  private final HandOffQueue<Object> queue;
  private final Thread worker;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private final String name;
  private final boolean takesRequests;
  private final Duration closeTimeout;
  private volatile boolean closed;

  public AsyncSink(String name, ExchangeSink delegate, int capacity) {
    this(name, delegate, capacity, DEFAULT_MAX_BYTES, CLOSE_TIMEOUT);
  }

  /**
   * @param capacity the most items queued
   * @param maxBytes the most heap queued items hold, as {@link HandOffQueue#heldBytes(Object)}
   *     estimates it
   */
  AsyncSink(String name, ExchangeSink delegate, int capacity, long maxBytes, Duration closeTimeout) {
    this.name = name;
    this.delegate = delegate;
    this.takesRequests = delegate.takesRequests();
    this.closeTimeout = closeTimeout;
    this.queue = new HandOffQueue<>(capacity, maxBytes, HandOffQueue::heldBytes);
    this.worker = Thread.ofPlatform().name("spanwire-" + name).daemon().start(this::run);
  }

  /** Items dropped because the queue was full. */
  public long dropped() {
    return dropped.get();
  }

  /** Items whose delegate threw (logged once, counted). */
  public long failures() {
    return failures.get();
  }

  /** Requests are queued only for a delegate that takes them (the table does not). */
  @Override
  public void onRequest(ConnectionInfo connection, String version, Request request) {
    if (takesRequests) {
      offer(new RequestSeen(connection, version, request));
    }
  }

  @Override
  public boolean takesRequests() {
    return takesRequests;
  }

  @Override
  public void onDetected(ConnectionInfo connection, int fd, long timestampNanos) {
    offer(new Detected(connection, fd, timestampNanos));
  }

  @Override
  public void onExchange(Exchange exchange) {
    offer(exchange);
  }

  @Override
  public void onOpaque(dev.spanwire.exporter.exchange.OpaqueConnection connection) {
    offer(connection);
  }

  private void offer(Object item) {
    if (closed || !queue.offer(item)) {
      dropped.incrementAndGet();
    }
  }

  private void run() {
    try {
      while (true) {
        Object item = queue.poll();
        if (item == null) {
          flushDelegate();
          if (closed && queue.isEmpty()) {
            return;
          }
          item = queue.poll(100, TimeUnit.MILLISECONDS);
          if (item == null) {
            continue;
          }
        }
        try {
          switch (item) {
            case RequestSeen r -> delegate.onRequest(r.connection(), r.version(), r.request());
            case Exchange e -> delegate.onExchange(e);
            case Detected d -> delegate.onDetected(d.connection(), d.fd(), d.timestampNanos());
            case dev.spanwire.exporter.exchange.OpaqueConnection o -> delegate.onOpaque(o);
            default -> throw new IllegalStateException("unexpected " + item);
          }
        } catch (RuntimeException e) {
          if (failures.getAndIncrement() == 0) {
            System.getLogger(AsyncSink.class.getName()).log(System.Logger.Level.WARNING, "output failed (counted)", e);
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void flushDelegate() {
    try {
      delegate.flush();
    } catch (RuntimeException e) {
      failures.incrementAndGet();
    }
  }

  /**
   * Delivers what is queued within {@link #CLOSE_TIMEOUT}, then closes the delegate. When the
   * delegate is stuck (stdout not read) the items still queued are counted as dropped and close
   * returns anyway: shutdown never waits on a reader that went away.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      worker.join(closeTimeout.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (worker.isAlive()) {
      dropped.addAndGet(queue.clear());
      System.getLogger(AsyncSink.class.getName())
          .log(System.Logger.Level.WARNING, "{0} output did not drain within {1}; the rest was dropped (counted)", name, closeTimeout);
      return;
    }
    delegate.close();
  }

  @Override
  public String toString() {
    return "AsyncSink{" + delegate + ", queued " + queue.size() + ", dropped " + dropped + "}";
  }
}
