package dev.spanwire.bpf;

/**
 * A record from the kernel's {@code events} ring buffer, decoded and copied out. Connection ids
 * are unique for one loaded capture; pid is the process (tgid), tid the thread.
 */
public sealed interface SocketEvent permits ConnectionOpened, DataCaptured, ConnectionClosed, ProcessExited, ProcessExecuted {
  long connectionId();

  int pid();

  int tid();

  int fd();

  /** CLOCK_MONOTONIC nanoseconds. */
  long timestampNanos();

  /**
   * The key of the connection in the kernel's table: {@code pid << 32 | fd} for the syscall
   * capture, the address of its struct sock for the socket capture.
   */
  static long key(int pid, int fd) {
    return (long) pid << 32 | (fd & 0xffffffffL);
  }
}
