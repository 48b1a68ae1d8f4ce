package dev.spanwire.bpf;

import java.util.Optional;

/**
 * The kernel's table of traced connections, for user space to read back what it lost track of
 * (an open event it never got, a connection it dropped) and to forget entries whose socket went
 * without a close() the capture saw. Any thread.
 */
public interface ConnectionTable {
  /** The entry for {@code pid}'s {@code fd}, when it still is connection {@code connectionId}. */
  Optional<KernelConnection> find(int pid, int fd, long connectionId);

  /** Deletes the entry for {@code pid}'s {@code fd} if it still is connection {@code connectionId}. */
  void forget(int pid, int fd, long connectionId);

  /** A table that knows nothing (replayed or recorded events). */
  ConnectionTable NONE = new ConnectionTable() {
    @Override
    public Optional<KernelConnection> find(int pid, int fd, long connectionId) {
      return Optional.empty();
    }

    @Override
    public void forget(int pid, int fd, long connectionId) {}
  };
}
