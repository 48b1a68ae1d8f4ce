package dev.spanwire.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads a {@code BPF_MAP_TYPE_RINGBUF} map on a daemon thread of its own through libbpf's
 * {@code ring_buffer} API. Each record is handed to the {@link RecordHandler} on that thread, as a
 * segment valid only during the call: the handler copies out what it keeps. A handler failure is
 * counted and the record skipped; nothing is thrown into C.
 *
 * <p>The kernel side wakes the reader only when enough data waits, so the reader also drains the
 * buffer every poll interval. {@link #close} stops the thread after a last drain and frees the
 * ring buffer; it may be called from any thread, more than once.
 */
public final class RingBufferReader implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(RingBufferReader.class.getName());
  private static final int EINTR = 4;

  /** Receives ring buffer records; a record's segment is valid only during the call. */
  @FunctionalInterface
  public interface RecordHandler {
    void onRecord(MemorySegment record);

    /** After each drained batch, and at least once per poll interval. */
    default void afterBatch() {}
  }

  private final String name;
  private final RecordHandler handler;
  private final int pollMillis;
  private final Arena arena = Arena.ofShared();
  private final MemorySegment ringBuffer;
  private final Thread thread;
  private final AtomicLong records = new AtomicLong();
  private final AtomicLong handlerFailures = new AtomicLong();
  private volatile boolean running = true;
  private volatile BpfException failure;
  private boolean closed;

  private RingBufferReader(BpfMap map, RecordHandler handler, Duration pollInterval) {
    this.name = map.name();
    this.handler = handler;
    this.pollMillis = (int) Math.max(1, pollInterval.toMillis());
    try {
      MethodHandle sample =
          MethodHandles.lookup()
              .findVirtual(
                  RingBufferReader.class,
                  "onSample",
                  MethodType.methodType(
                      int.class, MemorySegment.class, MemorySegment.class, long.class))
              .bindTo(this);
      MemorySegment callback =
          Linker.nativeLinker().upcallStub(sample, Libbpf.RING_BUFFER_SAMPLE_FN, arena);
      MemorySegment callState = Libbpf.callState(arena);
      MemorySegment rb =
          (MemorySegment)
              Libbpf.RING_BUFFER__NEW.invokeExact(
                  callState, map.fd(), callback, MemorySegment.NULL, MemorySegment.NULL);
      this.ringBuffer = Libbpf.checkPointer("open ring buffer " + name, rb, callState);
    } catch (Throwable t) {
      arena.close();
      throw Ffm.rethrow(t);
    }
    this.thread = Thread.ofPlatform().name("spanwire-ringbuf-" + name).daemon().unstarted(this::run);
  }

  /** Starts reading {@code map} (a loaded ring buffer map) on a new thread. */
  public static RingBufferReader start(BpfMap map, RecordHandler handler, Duration pollInterval) {
    RingBufferReader reader = new RingBufferReader(map, handler, pollInterval);
    reader.thread.start();
    return reader;
  }

  /** Records handed to the handler so far. */
  public long records() {
    return records.get();
  }

  /** Records whose handler threw. */
  public long handlerFailures() {
    return handlerFailures.get();
  }

  /** Whether the reader thread is still reading (it stops on close or a ring buffer error). */
  public boolean isRunning() {
    return thread.isAlive();
  }

  /** The error that stopped the reader, if one did. */
  public BpfException failure() {
    return failure;
  }

  private void run() {
    try {
      while (running) {
        // drain what is there; sleep in epoll only when the buffer is empty
        int consumed = Libbpf.check("consume ring buffer " + name, consume());
        if (consumed == 0) {
          int rc = poll();
          if (rc < 0 && rc != -EINTR) {
            Libbpf.check("poll ring buffer " + name, rc);
          }
        }
        afterBatch();
      }
      consume();
      afterBatch();
    } catch (BpfException e) {
      failure = e;
      LOG.log(System.Logger.Level.ERROR, "ring buffer reader stopped: {0}", e.getMessage());
    }
  }

  private int consume() {
    try {
      return (int) Libbpf.RING_BUFFER__CONSUME.invokeExact(ringBuffer);
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }

  private int poll() {
    try {
      return (int) Libbpf.RING_BUFFER__POLL.invokeExact(ringBuffer, pollMillis);
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }

  private void afterBatch() {
    try {
      handler.afterBatch();
    } catch (RuntimeException e) {
      if (handlerFailures.getAndIncrement() == 0) {
        LOG.log(System.Logger.Level.WARNING, "ring buffer batch handler failed (counted)", e);
      }
    }
  }

  /** The upcall: {@code int sample(void *ctx, void *data, size_t size)}. */
  private int onSample(MemorySegment context, MemorySegment data, long size) {
    // an exception escaping into C would kill the JVM
    try {
      records.incrementAndGet();
      handler.onRecord(data.reinterpret(size));
    } catch (Throwable t) {
      if (handlerFailures.getAndIncrement() == 0) {
        LOG.log(System.Logger.Level.WARNING, "ring buffer record handler failed (counted)", t);
      }
    }
    return 0;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    running = false;
    try {
      thread.join(Math.max(1000, 10L * pollMillis));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      // still inside a handler; freeing the buffer under it would crash, so leak it instead
      LOG.log(System.Logger.Level.WARNING, "ring buffer reader {0} did not stop; not freed", name);
      return;
    }
    try {
      Libbpf.RING_BUFFER__FREE.invokeExact(ringBuffer);
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    } finally {
      arena.close();
    }
  }

  @Override
  public String toString() {
    return "RingBufferReader{" + name + ", poll " + pollMillis + " ms, records " + records + "}";
  }
}
