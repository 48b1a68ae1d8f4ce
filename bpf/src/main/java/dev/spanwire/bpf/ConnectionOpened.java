package dev.spanwire.bpf;

import java.net.InetSocketAddress;

/**
 * A connection starts sending payload: sent before its first {@link DataCaptured}. {@code comm}
 * is the thread's command name (at most 15 characters); uid and gid those of the process;
 * {@code commandLine} the process's arguments separated by NUL bytes, as in /proc/PID/cmdline, as
 * the kernel read them (at most 256 bytes, empty when unreadable). {@code ino} is the socket's
 * inode number ({@code socket:[ino]} in /proc/PID/fd). {@code joinedMidStream}: the kernel found
 * the connection at its first HTTP-looking data, not at connect or accept, so what came before is
 * unknown (a socket from before the agent started, or one passed to the process).
 */
public record ConnectionOpened(
    long connectionId,
    int pid,
    int tid,
    int fd,
    long timestampNanos,
    int uid,
    int gid,
    InetSocketAddress local,
    InetSocketAddress remote,
    Role role,
    String comm,
    String commandLine,
    long ino,
    boolean joinedMidStream,
    long key,
    boolean tls)
    implements SocketEvent {

  /** A connection whose first bytes were not a TLS handshake. */
  public ConnectionOpened(
      long connectionId, int pid, int tid, int fd, long timestampNanos, int uid, int gid, InetSocketAddress local,
      InetSocketAddress remote, Role role, String comm, String commandLine, long ino, boolean joinedMidStream, long key) {
    this(connectionId, pid, tid, fd, timestampNanos, uid, gid, local, remote, role, comm, commandLine, ino,
        joinedMidStream, key, false);
  }

  /** A connection seen from its connect or accept, of a socket whose inode is not known. */
  public ConnectionOpened(
      long connectionId, int pid, int tid, int fd, long timestampNanos, int uid, int gid, InetSocketAddress local,
      InetSocketAddress remote, Role role, String comm, String commandLine) {
    this(connectionId, pid, tid, fd, timestampNanos, uid, gid, local, remote, role, comm, commandLine, 0, false);
  }

  /** The same, keyed as the syscall capture keys. */
  public ConnectionOpened(
      long connectionId, int pid, int tid, int fd, long timestampNanos, int uid, int gid, InetSocketAddress local,
      InetSocketAddress remote, Role role, String comm, String commandLine, long ino, boolean joinedMidStream) {
    this(connectionId, pid, tid, fd, timestampNanos, uid, gid, local, remote, role, comm, commandLine, ino,
        joinedMidStream, SocketEvent.key(pid, fd));
  }
}
