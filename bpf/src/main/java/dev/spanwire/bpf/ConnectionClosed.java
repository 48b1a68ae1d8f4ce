package dev.spanwire.bpf;

/**
 * A traced connection's fd was closed; totals are the stream lengths in each direction, of the
 * socket's bytes and of the TLS plaintext (0 without TLS).
 */
public record ConnectionClosed(
    long connectionId, int pid, int tid, int fd, long timestampNanos, long bytesEgress, long bytesIngress,
    long tlsBytesEgress, long tlsBytesIngress, long key)
    implements SocketEvent {

  /** A connection closed that had no TLS plaintext. */
  public ConnectionClosed(long connectionId, int pid, int tid, int fd, long timestampNanos, long bytesEgress, long bytesIngress) {
    this(connectionId, pid, tid, fd, timestampNanos, bytesEgress, bytesIngress, 0, 0);
  }

  /** The same with TLS totals, keyed as the syscall capture keys. */
  public ConnectionClosed(long connectionId, int pid, int tid, int fd, long timestampNanos, long bytesEgress,
      long bytesIngress, long tlsBytesEgress, long tlsBytesIngress) {
    this(connectionId, pid, tid, fd, timestampNanos, bytesEgress, bytesIngress, tlsBytesEgress, tlsBytesIngress,
        SocketEvent.key(pid, fd));
  }
}
