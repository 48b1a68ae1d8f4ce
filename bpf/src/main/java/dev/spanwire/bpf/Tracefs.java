package dev.spanwire.bpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The tracing filesystem that tracepoint attachment reads event ids from. When
 * {@code /sys/kernel/tracing} is empty, a privileged agent mounts it.
 */
public final class Tracefs {
  public static final Path MOUNT_POINT = Path.of("/sys/kernel/tracing");
  private static final Path DEBUGFS_TRACING = Path.of("/sys/kernel/debug/tracing");

  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle MOUNT =
      LINKER.downcallHandle(
          LINKER.defaultLookup().find("mount").orElseThrow(),
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS),
          Linker.Option.captureCallState("errno"));
  private static final MethodHandle STRERROR =
      LINKER.downcallHandle(
          LINKER.defaultLookup().find("strerror").orElseThrow(),
          FunctionDescriptor.of(ADDRESS, JAVA_INT));

  private Tracefs() {}

  /** Whether syscall tracepoints are visible (in tracefs, or in debugfs's tracing folder). */
  public static boolean isMounted() {
    return Files.isDirectory(MOUNT_POINT.resolve("events/syscalls"))
        || Files.isDirectory(DEBUGFS_TRACING.resolve("events/syscalls"));
  }

  /** Mounts tracefs at {@link #MOUNT_POINT} unless already visible. */
  public static void ensureMounted() {
    if (isMounted()) {
      return;
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment callState = arena.allocate(CALL_STATE);
      int rc =
          (int)
              MOUNT.invokeExact(
                  callState,
                  arena.allocateFrom("tracefs"),
                  arena.allocateFrom(MOUNT_POINT.toString()),
                  arena.allocateFrom("tracefs"),
                  0L,
                  MemorySegment.NULL);
      if (rc != 0) {
        int errno = (int) ERRNO.get(callState, 0L);
        String reason = Ffm.string((MemorySegment) STRERROR.invokeExact(errno));
        throw new BpfException("mount tracefs at " + MOUNT_POINT, errno, reason);
      }
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
    if (!isMounted()) {
      throw new BpfException(
          "mount tracefs at " + MOUNT_POINT, 0, "mounted, but events/syscalls is missing (kernel without CONFIG_FTRACE_SYSCALLS?)");
    }
  }
}
