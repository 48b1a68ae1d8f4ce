package dev.spanwire.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The kernel's {@code armed} map (maps.h): what may capture yet. A capture source's programs
 * attach one by one; until all are in place none captures, so a connection's two directions are
 * first seen from one moment on, never one before the other.
 */
final class Armed {
  /** The socket or syscall programs: 1 once all are attached. */
  static final int CAPTURE = 0;
  /** The TLS libraries: the attach sequence number of the last library whose probes are all in place. */
  static final int TLS = 1;

  private Armed() {}

  static void set(BpfObject object, int key, long value) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment k = arena.allocate(ValueLayout.JAVA_INT);
      k.set(ValueLayout.JAVA_INT, 0, key);
      MemorySegment v = arena.allocate(ValueLayout.JAVA_LONG);
      v.set(ValueLayout.JAVA_LONG, 0, value);
      object.map("armed").update(k, v);
    }
  }
}
