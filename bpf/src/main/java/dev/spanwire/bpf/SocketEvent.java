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
}
