package dev.spanwire.bpf;

/** The last thread of a process with traced connections exited; its sockets are gone. */
public record ProcessExited(int pid, int tid, long timestampNanos) implements SocketEvent {
  @Override
  public long connectionId() {
    return 0;
  }

  @Override
  public int fd() {
    return -1;
  }
}
