package dev.spanwire.bpf;

import java.util.Optional;

/**
 * The kernel's table of traced connections, for user space to read back what it lost track of
 * (an open event it never got, a connection it dropped) and to forget entries whose socket went
 * without a close() the capture saw. Any thread.
 */
public interface ConnectionTable {
  /** The entry under {@code key} (as events carry it), when it still is connection {@code connectionId}. */
  Optional<KernelConnection> find(long key, long connectionId);

  /** Deletes the entry under {@code key} if it still is connection {@code connectionId}. */
  void forget(long key, long connectionId);

  /**
   * The parser skips this direction's bytes before {@code position} (a body it frames by
   * length): the kernel may send their length only. A hint: the capture may still send them.
   */
  default void skipUntil(long key, long connectionId, Direction direction, long position) {}

  /** A table that knows nothing (replayed or recorded events). */
  ConnectionTable NONE = new ConnectionTable() {
    @Override
    public Optional<KernelConnection> find(long key, long connectionId) {
      return Optional.empty();
    }

    @Override
    public void forget(long key, long connectionId) {}
  };
}
