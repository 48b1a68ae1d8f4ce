package dev.spanwire.bpf;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The scheduling niceness of the calling thread. Linux keeps a nice value per thread
 * ({@code setpriority(PRIO_PROCESS, tid)}), which a new thread inherits from the one that starts
 * it; the JVM sets none of its own. The ring buffer reader takes a lower value while it is behind (see {@link
 * RingBufferReader}).
 */
public final class ThreadNice {
  public static final int MIN = -20;
  public static final int MAX = 19;
  private static final int PRIO_PROCESS = 0;
  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final MethodHandle GETTID = Ffm.libc("gettid", FunctionDescriptor.of(JAVA_INT), false);
  private static final MethodHandle SETPRIORITY =
      Ffm.libc("setpriority", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), true);
  private static final MethodHandle GETPRIORITY =
      Ffm.libc("getpriority", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), false);

  private ThreadNice() {}

  /**
   * Sets the calling thread's nice value; null when done, else why not (the kernel's error: a
   * value below the current one needs CAP_SYS_NICE or RLIMIT_NICE).
   */
  public static String set(int nice) {
    checkRange(nice);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(CALL_STATE);
      int tid = (int) GETTID.invokeExact();
      int rc = (int) SETPRIORITY.invokeExact(state, PRIO_PROCESS, tid, nice);
      if (rc == 0) {
        return null;
      }
      int errno = (int) ERRNO.get(state, 0L);
      return "setpriority(" + nice + "): " + Libbpf.strerror(errno);
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }

  /** {@code nice} when it is within Linux's range, else an IllegalArgumentException saying so. */
  public static int checkRange(int nice) {
    if (nice < MIN || nice > MAX) {
      throw new IllegalArgumentException("nice must be " + MIN + ".." + MAX + ", got " + nice);
    }
    return nice;
  }

  /** The calling thread's nice value. */
  public static int get() {
    try {
      int tid = (int) GETTID.invokeExact();
      // getpriority returns the nice value itself (glibc turns the kernel's 20 - nice back)
      return (int) GETPRIORITY.invokeExact(PRIO_PROCESS, tid);
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }
}
