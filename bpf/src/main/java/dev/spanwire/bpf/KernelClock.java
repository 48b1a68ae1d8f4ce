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

/**
 * Maps the kernel's CLOCK_MONOTONIC event timestamps to wall-clock time. The offset between the
 * two clocks is measured once, at {@link #calibrate}, so durations between events stay exact
 * even if the wall clock is stepped later.
 */
public final class KernelClock {
  private static final int CLOCK_MONOTONIC = 1;
  private static final MethodHandle CLOCK_GETTIME =
      Linker.nativeLinker()
          .downcallHandle(
              Linker.nativeLinker().defaultLookup().find("clock_gettime").orElseThrow(),
              FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));

  private final long epochMinusMonotonic;

  private KernelClock(long epochMinusMonotonic) {
    this.epochMinusMonotonic = epochMinusMonotonic;
  }

  /** Measures the offset, keeping the sample with the tightest monotonic bracket. */
  public static KernelClock calibrate() {
    long best = Long.MAX_VALUE;
    long offset = 0;
    for (int i = 0; i < 5; i++) {
      long before = monotonicNanos();
      Instant wall = Instant.now();
      long after = monotonicNanos();
      if (after - before < best) {
        best = after - before;
        offset = epochNanos(wall) - (before + (after - before) / 2);
      }
    }
    return new KernelClock(offset);
  }

  /** A clock with a known offset (tests). */
  public static KernelClock withOffset(long epochMinusMonotonicNanos) {
    return new KernelClock(epochMinusMonotonicNanos);
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
