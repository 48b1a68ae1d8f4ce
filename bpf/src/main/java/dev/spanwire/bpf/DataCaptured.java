package dev.spanwire.bpf;

/**
 * Bytes moved by one syscall on a traced connection. {@code position} is the stream offset of the
 * first byte in this direction and {@code length} the real count; {@code payload} holds the first
 * bytes only (up to the capture size, none for sendfile). The next event in this direction starts
 * at {@code position + length}: a larger position means events were lost. {@code lossBefore}
 * says bytes of this direction moved unseen before this event without moving the position (the
 * kernel had no room to keep a syscall's arguments): a loss of unknown size. {@code tls}: the bytes
 * are plaintext a TLS library read or wrote; they have stream positions of their own, apart from
 * the connection's ciphertext.
 */
public record DataCaptured(
    long connectionId,
    int pid,
    int tid,
    int fd,
    long timestampNanos,
    Direction direction,
    Source source,
    long position,
    int length,
    byte[] payload,
    boolean lossBefore,
    boolean tls,
    long key)
    implements SocketEvent {

  /** Bytes moved by a syscall on the socket, with nothing missed before them, keyed as the syscall capture keys. */
  public DataCaptured(
      long connectionId, int pid, int tid, int fd, long timestampNanos, Direction direction, Source source,
      long position, int length, byte[] payload) {
    this(connectionId, pid, tid, fd, timestampNanos, direction, source, position, length, payload, false, false,
        SocketEvent.key(pid, fd));
  }

  /** The same with the loss and TLS flags. */
  public DataCaptured(
      long connectionId, int pid, int tid, int fd, long timestampNanos, Direction direction, Source source,
      long position, int length, byte[] payload, boolean lossBefore, boolean tls) {
    this(connectionId, pid, tid, fd, timestampNanos, direction, source, position, length, payload, lossBefore, tls,
        SocketEvent.key(pid, fd));
  }

  /** Whether fewer bytes were captured than moved. */
  public boolean truncated() {
    return payload.length < length;
  }

  @Override
  public String toString() {
    return "DataCaptured[conn="
        + connectionId
        + ", pid="
        + pid
        + ", tid="
        + tid
        + ", "
        + direction
        + " "
        + source
        + ", position="
        + position
        + ", length="
        + length
        + ", captured="
        + payload.length
        + (lossBefore ? ", loss before" : "")
        + (tls ? ", tls" : "")
        + "]";
  }
}
