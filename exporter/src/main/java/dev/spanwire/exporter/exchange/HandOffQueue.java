package dev.spanwire.exporter.exchange;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.ToLongFunction;

/**
 * A queue from the pipeline thread to a slower consumer, bounded twice: by items and by the heap
 * its items hold ({@link #heldBytes(Object)}: an exchange with captured bodies holds megabytes,
 * one without a kilobyte). An item past either bound is refused, never waited for, so the pipeline
 * keeps its pace and the heap its size whatever the consumer does. One producer or many, one
 * consumer.
 */
public final class HandOffQueue<T> {
  private final ArrayBlockingQueue<T> items;
  private final int capacity;
  private final long maxBytes;
  private final ToLongFunction<? super T> sizer;
  private final AtomicLong bytes = new AtomicLong();
  /** Items queued (the queue's own count is behind its lock). */
  private final AtomicInteger count = new AtomicInteger();
  /** The consumer parked in {@link #awaitAtLeast}, and what it waits for. */
  private volatile Thread waiter;
  private volatile int wantedItems = Integer.MAX_VALUE;
  private volatile long wantedBytes = Long.MAX_VALUE;

  /**
   * @param capacity the most items held
   * @param maxBytes the most bytes held, estimated by {@code sizer}; an item larger than this on
   *     its own is always refused
   */
  public HandOffQueue(int capacity, long maxBytes, ToLongFunction<? super T> sizer) {
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("maxBytes " + maxBytes);
    }
    this.items = new ArrayBlockingQueue<>(capacity);
    this.capacity = capacity;
    this.maxBytes = maxBytes;
    this.sizer = sizer;
  }

  /** Queues the item; false when either bound would be passed (the item is not kept). */
  public boolean offer(T item) {
    long size = sizer.applyAsLong(item);
    if (bytes.addAndGet(size) > maxBytes) {
      bytes.addAndGet(-size);
      wake(); // full: what waits for more should take what there is
      return false;
    }
    if (!items.offer(item)) {
      bytes.addAndGet(-size);
      wake();
      return false;
    }
    int queued = count.incrementAndGet();
    Thread w = waiter;
    if (w != null && (queued >= wantedItems || bytes.get() >= wantedBytes)) {
      LockSupport.unpark(w);
    }
    return true;
  }

  private void wake() {
    Thread w = waiter;
    if (w != null) {
      LockSupport.unpark(w);
    }
  }

  /**
   * Waits (the one consumer) until at least {@code atLeast} items are queued or they hold at least
   * {@code orBytes}, an item was refused because the queue is full, or {@code timeoutNanos} passed
   * — whichever comes first; takes nothing. A consumer that gathers batches so wakes once a batch
   * rather than once an item, as {@link #poll(long, TimeUnit)} would: each wake-up a thread switch
   * on the pipeline's core.
   */
  public void awaitAtLeast(int atLeast, long orBytes, long timeoutNanos) {
    wantedItems = atLeast;
    wantedBytes = orBytes;
    waiter = Thread.currentThread();
    try {
      // after publishing the wait: an offer either sees the waiter or is seen here
      if (count.get() < atLeast && bytes.get() < orBytes) {
        LockSupport.parkNanos(this, timeoutNanos);
      }
    } finally {
      waiter = null;
      wantedItems = Integer.MAX_VALUE;
      wantedBytes = Long.MAX_VALUE;
    }
  }

  /** The next item, or null when none is queued. */
  public T poll() {
    return released(items.poll());
  }

  /** The next item, waiting up to {@code timeout} for one; null when none came. */
  public T poll(long timeout, TimeUnit unit) throws InterruptedException {
    return released(items.poll(timeout, unit));
  }

  /** Drops every queued item; how many there were. */
  public int clear() {
    int cleared = 0;
    while (poll() != null) {
      cleared++;
    }
    return cleared;
  }

  public int size() {
    return items.size();
  }

  public boolean isEmpty() {
    return items.isEmpty();
  }

  /** The most items held. */
  public int capacity() {
    return capacity;
  }

  /** How full the queue is, 0 to 1: the larger of its share of the item bound and of the byte bound. */
  public double fill() {
    return Math.max((double) count.get() / capacity, (double) bytes.get() / maxBytes);
  }

  private T released(T item) {
    if (item != null) {
      count.decrementAndGet();
      bytes.addAndGet(-sizer.applyAsLong(item));
    }
    return item;
  }

  /**
   * An estimate of the heap an item handed to an output holds: the JVM's object headers and
   * fields as a constant, and each text, header field and body prefix by its length (strings read
   * off the wire hold one byte per character). Items that are not exchanges count the constant.
   */
  public static long heldBytes(Object item) {
    return switch (item) {
      case Exchange e -> heldBytes(e);
      default -> OBJECT_BYTES;
    };
  }

  /** {@link #heldBytes(Object)} of an exchange. */
  public static long heldBytes(Exchange exchange) {
    long bytes = 3 * OBJECT_BYTES + text(exchange.version());
    Request request = exchange.request();
    bytes += text(request.method()) + text(request.target()) + text(request.authority()) + text(request.userAgent())
        + headers(request.headers()) + body(request.bodyPrefix());
    Response response = exchange.response();
    if (response != null) {
      bytes += text(response.statusText()) + headers(response.headers()) + body(response.bodyPrefix());
    }
    return bytes;
  }

  /** An object's header and a few fields, rounded up; the unit of the estimate. */
  static final long OBJECT_BYTES = 64;

  private static long text(String s) {
    return s == null ? 0 : 24 + 16 + s.length();
  }

  private static long headers(Headers headers) {
    long bytes = 0;
    for (int i = 0; i < headers.size(); i++) {
      bytes += text(headers.name(i)) + text(headers.value(i)) + 8;
    }
    return bytes;
  }

  private static long body(byte[] prefix) {
    return prefix == null ? 0 : 16 + prefix.length;
  }
}
