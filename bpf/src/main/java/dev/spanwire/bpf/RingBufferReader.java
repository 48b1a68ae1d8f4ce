package dev.spanwire.bpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads a {@code BPF_MAP_TYPE_RINGBUF} map on a daemon thread of its own by walking its mapped
 * pages from Java, as libbpf's ring buffer code does in C: the consumer position page is mapped
 * writable, the producer page and the data area read-only. The data area is mapped once, not twice
 * as libbpf does (the kernel's pages count in the process's RSS per mapping): the rare record that
 * wraps past the end is copied whole into a scratch segment. Records are handed to the {@link RecordHandler} in place, as segments
 * valid only during the call; the handler copies out what it keeps. No native callback runs per
 * record. The thread sleeps in {@code epoll_wait} on the map (the kernel wakes it when enough data
 * waits) and drains at least every poll interval.
 *
 * <p>{@link #close} stops the thread after a last drain and unmaps the ring; any thread, more than
 * once.
 */
public final class RingBufferReader implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(RingBufferReader.class.getName());
  private static final int EINTR = 4;
  /**
   * How long {@link #close} waits for the last drain. A full ring read by code the JIT has not
   * compiled yet (an agent stopped right after its start under load) took more than the second it
   * waited before; what the thread hands over after close goes to a stopped pipeline.
   */
  static final long CLOSE_WAIT_MILLIS = 5_000;
  /** The record header: its length with the busy and discard bits, then 4 bytes of offset. */
  private static final int HEADER_BYTES = 8;
  /** Within a batch, how far behind the reader is is looked at again every this many records. */
  private static final int PACE_RECORDS = 64;
  private static final int BUSY_BIT = 1 << 31;
  private static final int DISCARD_BIT = 1 << 30;

  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle MMAP = Ffm.libc("mmap",
      FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), true);
  private static final MethodHandle MUNMAP = Ffm.libc("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), false);
  private static final MethodHandle EPOLL_CREATE1 = Ffm.libc("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT), true);
  private static final MethodHandle EPOLL_CTL =
      Ffm.libc("epoll_ctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), true);
  private static final MethodHandle EPOLL_WAIT =
      Ffm.libc("epoll_wait", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), true);
  private static final MethodHandle CLOSE = Ffm.libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), false);
  private static final MethodHandle GETPAGESIZE = Ffm.libc("getpagesize", FunctionDescriptor.of(JAVA_INT), false);
  private static final int PROT_READ = 1;
  private static final int PROT_WRITE = 2;
  private static final int MAP_SHARED = 1;
  private static final int EPOLL_CLOEXEC = 0x80000;
  private static final int EPOLL_CTL_ADD = 1;
  private static final int EPOLLIN = 1;
  /** {@code struct epoll_event}: packed on x86-64 (12 bytes), naturally aligned elsewhere (16). */
  private static final long EPOLL_EVENT_BYTES = 16;
  private static final VarHandle LONG_ACQUIRE = JAVA_LONG.varHandle();
  private static final VarHandle INT_ACQUIRE = JAVA_INT.varHandle();

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
  /** The nice value the thread takes while it is behind; 0 never changes it. */
  private final int catchUpNice;
  /** The thread's catch-up (made on the thread when it starts). */
  private CatchUp catchUp;
  private final AtomicLong catchUps = new AtomicLong();
  private final Arena arena = Arena.ofShared();
  private final long pageSize;
  private final long dataBytes;
  private final long mask;
  private final MemorySegment consumer;
  private final MemorySegment producerMapping;
  private final MemorySegment producer;
  private final MemorySegment data;
  /** Where a record that wraps past the end of the data area is put back together. */
  private MemorySegment scratch;
  private final int epollFd;
  private final MemorySegment epollEvents;
  private final Thread thread;
  private final AtomicLong records = new AtomicLong();
  private final AtomicLong handlerFailures = new AtomicLong();
  private final AtomicLong wrapped = new AtomicLong();
  private volatile boolean running = true;
  private volatile BpfException failure;
  private boolean closed;

  private RingBufferReader(BpfMap map, RecordHandler handler, Duration pollInterval, int catchUpNice) {
    this.name = map.name();
    this.catchUpNice = catchUpNice;
    this.handler = handler;
    this.pollMillis = (int) Math.max(1, pollInterval.toMillis());
    int fd = map.fd();
    try {
      this.pageSize = (int) GETPAGESIZE.invokeExact();
      this.dataBytes = map.maxEntries();
      this.mask = dataBytes - 1;
      this.consumer = mmap("map the consumer page of " + name, pageSize, PROT_READ | PROT_WRITE, fd, 0);
      // the producer page, then the data area
      this.producerMapping = mmap("map the data of " + name, pageSize + dataBytes, PROT_READ, fd, pageSize);
      this.producer = producerMapping.asSlice(0, pageSize);
      this.data = producerMapping.asSlice(pageSize, dataBytes);
      this.scratch = arena.allocate(64 << 10, 8);
      this.epollFd = epoll(fd);
      this.epollEvents = arena.allocate(EPOLL_EVENT_BYTES, 8);
    } catch (Throwable t) {
      arena.close();
      throw Ffm.rethrow(t);
    }
    this.thread = Thread.ofPlatform().name("spanwire-ringbuf-" + name).daemon().unstarted(this::run);
  }

  /**
   * Starts reading {@code map} (a loaded ring buffer map) on a new thread, which runs at nice value
   * {@code catchUpNice} while it is behind (0: never changes its nice value; see {@link #pace}).
   */
  public static RingBufferReader start(BpfMap map, RecordHandler handler, Duration pollInterval, int catchUpNice) {
    RingBufferReader reader = new RingBufferReader(map, handler, pollInterval, catchUpNice);
    reader.thread.start();
    return reader;
  }

  private MemorySegment mmap(String operation, long length, int prot, int fd, long offset) throws Throwable {
    MemorySegment callState = arena.allocate(CALL_STATE);
    MemorySegment address = (MemorySegment) MMAP.invokeExact(callState, MemorySegment.NULL, length, prot, MAP_SHARED, fd, offset);
    if (address.address() == -1L) {
      int errno = (int) ERRNO.get(callState, 0L);
      throw new BpfException(operation, errno, Libbpf.strerror(errno));
    }
    return address.reinterpret(length);
  }

  private int epoll(int mapFd) throws Throwable {
    MemorySegment callState = arena.allocate(CALL_STATE);
    int epfd = (int) EPOLL_CREATE1.invokeExact(callState, EPOLL_CLOEXEC);
    if (epfd < 0) {
      int errno = (int) ERRNO.get(callState, 0L);
      throw new BpfException("epoll for ring buffer " + name, errno, Libbpf.strerror(errno));
    }
    MemorySegment event = arena.allocate(EPOLL_EVENT_BYTES, 8);
    event.set(JAVA_INT, 0, EPOLLIN);
    int rc = (int) EPOLL_CTL.invokeExact(callState, epfd, EPOLL_CTL_ADD, mapFd, event);
    if (rc < 0) {
      int errno = (int) ERRNO.get(callState, 0L);
      throw new BpfException("watch ring buffer " + name, errno, Libbpf.strerror(errno));
    }
    return epfd;
  }

  /** Records handed to the handler so far. */
  public long records() {
    return records.get();
  }

  /** Records that wrapped past the end of the data area (put back together). */
  long wrapped() {
    return wrapped.get();
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
    catchUp = new CatchUp("the ring buffer reader", catchUpNice, catchUps);
    try (Arena waitArena = Arena.ofConfined()) {
      MemorySegment callState = waitArena.allocate(CALL_STATE);
      while (running) {
        // drain what is there; sleep in epoll only when the buffer is empty
        if (drain() == 0) {
          int rc = (int) EPOLL_WAIT.invokeExact(callState, epollFd, epollEvents, 1, pollMillis);
          if (rc < 0) {
            int errno = (int) ERRNO.get(callState, 0L);
            if (errno != EINTR) {
              throw new BpfException("wait on ring buffer " + name, errno, Libbpf.strerror(errno));
            }
          }
        }
        afterBatch();
      }
      drain(); // what is there at the close
      afterBatch();
    } catch (BpfException e) {
      failure = e;
      LOG.log(System.Logger.Level.ERROR, "ring buffer reader stopped: {0}", e.getMessage());
    } catch (Throwable t) {
      failure = new BpfException("read ring buffer " + name, 0, String.valueOf(t));
      LOG.log(System.Logger.Level.ERROR, "ring buffer reader stopped", t);
    }
  }

  /**
   * Hands the complete records there now to the handler, freeing each one's space; returns how
   * many it freed (discarded ones too). A batch ends at the producer position read at its start:
   * while the kernel never stops producing (an overloaded agent), the handler's
   * {@code afterBatch} (flushes, expiry, sweeps) still runs between batches, where draining until
   * the ring was empty kept it from running at all and the state it releases grew until the heap
   * ran out.
   */
  private int drain() {
    int count = 0;
    long consumed = (long) LONG_ACQUIRE.getAcquire(consumer, 0L);
    long produced = (long) LONG_ACQUIRE.getAcquire(producer, 0L);
    pace(produced - consumed);
    while (consumed < produced) {
      if ((count & (PACE_RECORDS - 1)) == PACE_RECORDS - 1) {
        // a batch can take long (a cold JIT, a starved thread): how far behind is looked at within it too
        pace((long) LONG_ACQUIRE.getAcquire(producer, 0L) - consumed);
      }
      long offset = consumed & mask;
      int header = (int) INT_ACQUIRE.getAcquire(data, offset);
      if ((header & BUSY_BIT) != 0) {
        return count; // reserved, not yet submitted: the rest waits for it
      }
      int length = header & ~(BUSY_BIT | DISCARD_BIT);
      consumed += (length + HEADER_BYTES + 7) & ~7L;
      count++;
      if ((header & DISCARD_BIT) == 0) {
        handle(record(offset + HEADER_BYTES, length));
      }
      LONG_ACQUIRE.setRelease(consumer, 0L, consumed);
    }
    return count;
  }

  /**
   * Runs the thread at {@link #catchUpNice} while {@code unread} bytes are more than a quarter of
   * the ring (the kernel wakes the reader at an eighth), back at its own nice value once no more
   * than an eighth waits. On a host whose services keep every core busy, the scheduler's fair share
   * is too little for a reader that has fallen behind — in the seconds after start, while the JIT
   * has not compiled the pipeline yet, it needs many times its usual CPU — and the ring fills up:
   * events lost, and an HTTP/2 connection's header compression state with them for good. A reader
   * that keeps up stays at its own value, so the traced services see no difference then.
   */
  private void pace(long unread) {
    catchUp.adjust((double) unread / dataBytes);
  }

  /** Times the reader fell behind and ran at its catch-up nice value (see {@link #pace}). */
  public long catchUps() {
    return catchUps.get();
  }

  /** The record's bytes at {@code start} (an offset into the data area, maybe past its end). */
  private MemorySegment record(long start, int length) {
    start &= mask;
    if (start + length <= dataBytes) {
      return data.asSlice(start, length);
    }
    return reassembled(start, length);
  }

  /**
   * A record that wraps past the end of the data area, copied together. Its own method: inlined,
   * its allocation and copies made {@link #record}'s C2 compilation stop at the compile memory
   * limit (8.8 MB), for a path taken once per pass over the ring.
   */
  private MemorySegment reassembled(long start, int length) {
    if (scratch.byteSize() < length) {
      scratch = arena.allocate(length, 8);
    }
    wrapped.incrementAndGet();
    long head = dataBytes - start;
    MemorySegment.copy(data, start, scratch, 0, head);
    MemorySegment.copy(data, 0, scratch, head, length - head);
    return scratch.asSlice(0, length);
  }

  private void handle(MemorySegment record) {
    records.incrementAndGet();
    try {
      handler.onRecord(record);
    } catch (RuntimeException e) {
      if (handlerFailures.getAndIncrement() == 0) {
        LOG.log(System.Logger.Level.WARNING, "ring buffer record handler failed (counted)", e);
      }
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

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    running = false;
    try {
      thread.join(Math.max(CLOSE_WAIT_MILLIS, 10L * pollMillis));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      // still inside a handler; unmapping under it would crash, so leak the mapping instead
      LOG.log(System.Logger.Level.WARNING, "ring buffer reader {0} did not stop; not unmapped", name);
      return;
    }
    try {
      int ignored = (int) MUNMAP.invokeExact(consumer, consumer.byteSize());
      ignored = (int) MUNMAP.invokeExact(producerMapping, producerMapping.byteSize());
      ignored = (int) CLOSE.invokeExact(epollFd);
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    } finally {
      arena.close();
    }
  }

  @Override
  public String toString() {
    return "RingBufferReader{" + name + ", " + dataBytes + " bytes, poll " + pollMillis + " ms, records " + records + "}";
  }
}
