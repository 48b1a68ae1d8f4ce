package dev.spanwire.bpf;

/**
 * A process with traced connections replaced its program (execve): its name and command line
 * changed, and its close-on-exec sockets were closed without a close() the capture sees.
 */
public record ProcessExecuted(int pid, int tid, long timestampNanos) implements SocketEvent {
  @Override
  public long connectionId() {
    return 0;
  }

  @Override
  public int fd() {
    return -1;
  }
}
