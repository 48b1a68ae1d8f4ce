package dev.spanwire.bpf;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/** Small helpers for foreign calls that bind nothing themselves. */
final class Ffm {
  private Ffm() {}

  /** A libc function's downcall handle; with {@code errno}, its first argument is the call state that keeps errno. */
  static MethodHandle libc(String function, FunctionDescriptor descriptor, boolean errno) {
    Linker linker = Linker.nativeLinker();
    MemorySegment symbol = linker.defaultLookup().find(function)
        .orElseThrow(() -> new BpfException("bind " + function, 0, "symbol not found in libc"));
    return errno
        ? linker.downcallHandle(symbol, descriptor, Linker.Option.captureCallState("errno"))
        : linker.downcallHandle(symbol, descriptor);
  }

  /** A C string, or null for NULL. */
  static String string(MemorySegment cString) {
    return cString.equals(MemorySegment.NULL)
        ? null
        : cString.reinterpret(Long.MAX_VALUE).getString(0);
  }

  /**
   * For {@code catch (Throwable t)} around {@code invokeExact}: downcalls throw no checked
   * exceptions, so anything else than an unchecked one is a bug.
   */
  static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException e) {
      return e;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException("unexpected checked exception from a downcall", t);
  }
}
