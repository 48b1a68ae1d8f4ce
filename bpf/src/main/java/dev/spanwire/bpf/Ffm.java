package dev.spanwire.bpf;

import java.lang.foreign.MemorySegment;

/** Small helpers for foreign calls that bind nothing themselves. */
final class Ffm {
  private Ffm() {}

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
