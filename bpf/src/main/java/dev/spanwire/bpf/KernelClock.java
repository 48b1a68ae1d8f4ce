package dev.spanwire.bpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.time.Instant;
import java.util.function.LongSupplier;

/**
 * Maps the kernel's CLOCK_MONOTONIC event timestamps to wall-clock time. The offset between the
 * two clocks is measured at {@link #calibrate} and again at each {@link #recalibrate}, which the
 * agent runs periodically: an NTP step or a suspend (CLOCK_MONOTONIC stops while suspended) moves
 * the wall clock against the monotonic one, and absolute times follow within one period.
 * Durations are differences of kernel timestamps and never change. Any thread.
 */
public final class KernelClock {
  private static final int CLOCK_MONOTONIC = 1;
  private static final MethodHandle CLOCK_GETTIME =
      Linker.nativeLinker()
          .downcallHandle(
              Linker.nativeLinker().defaultLookup().find("clock_gettime").orElseThrow(),
              FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));

  private final LongSupplier wallEpochNanos;
  private final LongSupplier monotonic;
  private volatile long epochMinusMonotonic;

  private KernelClock(long epochMinusMonotonic, LongSupplier wallEpochNanos, LongSupplier monotonic) {
    this.epochMinusMonotonic = epochMinusMonotonic;
    this.wallEpochNanos = wallEpochNanos;
    this.monotonic = monotonic;
  }

  /** Measures the offset of the system's clocks. */
  public static KernelClock calibrate() {
    return calibrate(() -> epochNanos(Instant.now()), KernelClock::monotonicNanos);
  }

  /** Measures the offset of these clocks (tests step the wall clock). */
  public static KernelClock calibrate(LongSupplier wallEpochNanos, LongSupplier monotonic) {
    return new KernelClock(measure(wallEpochNanos, monotonic), wallEpochNanos, monotonic);
  }

  /** A clock with a fixed offset (tests); {@link #recalibrate} keeps it. */
  public static KernelClock withOffset(long epochMinusMonotonicNanos) {
    return new KernelClock(epochMinusMonotonicNanos, null, null);
  }

  /** Keeps the sample with the tightest monotonic bracket of five. */
  private static long measure(LongSupplier wall, LongSupplier monotonic) {
    long best = Long.MAX_VALUE;
    long offset = 0;
    for (int i = 0; i < 5; i++) {
      long before = monotonic.getAsLong();
      long now = wall.getAsLong();
      long after = monotonic.getAsLong();
      if (after - before < best) {
        best = after - before;
        offset = now - (before + (after - before) / 2);
      }
    }
    return offset;
  }

  /** Measures the offset again; returns how far it moved, in nanoseconds. */
  public long recalibrate() {
    if (wallEpochNanos == null) {
      return 0;
    }
    long offset = measure(wallEpochNanos, monotonic);
    long moved = offset - epochMinusMonotonic;
    epochMinusMonotonic = offset;
    return moved;
  }

  /** CLOCK_MONOTONIC now, in nanoseconds: the clock of {@link SocketEvent#timestampNanos}. */
  public static long monotonicNanos() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment timespec = arena.allocate(16, 8);
      int rc = (int) CLOCK_GETTIME.invokeExact(CLOCK_MONOTONIC, timespec);
      if (rc != 0) {
        throw new IllegalStateException("clock_gettime(CLOCK_MONOTONIC) failed");
      }
      return timespec.get(JAVA_LONG, 0) * 1_000_000_000L + timespec.get(JAVA_LONG, 8);
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }

  /** Nanoseconds since the epoch for a kernel monotonic timestamp. */
  public long toEpochNanos(long monotonicNanos) {
    return monotonicNanos + epochMinusMonotonic;
  }

  public Instant toInstant(long monotonicNanos) {
    long epoch = toEpochNanos(monotonicNanos);
    return Instant.ofEpochSecond(Math.floorDiv(epoch, 1_000_000_000L), Math.floorMod(epoch, 1_000_000_000L));
  }

  private static long epochNanos(Instant instant) {
    return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
  }

  @Override
  public String toString() {
    return "KernelClock{epoch - monotonic = " + epochMinusMonotonic + " ns}";
  }
}
