package dev.spanwire.bpf;

/**
 * The capture source on socket tracepoints (kernel 6.3+): {@code sock:sock_send_length} and
 * {@code sock:sock_recv_length} for data (the syscall that moved it read from the task's
 * registers), {@code sock:inet_sock_set_state} for connect and accept, {@code tcp:tcp_destroy_sock}
 * for the end, plus the process
 * hooks (exit, exec). BTF tracepoint programs; connections keyed by their struct sock.
 */
public final class SocketTracepoints implements CaptureSource {
  public static final SocketTracepoints INSTANCE = new SocketTracepoints();

  private SocketTracepoints() {}

  @Override
  public String name() {
    return "socket tracepoints";
  }

  @Override
  public boolean owns(String section) {
    return section.startsWith("tp_btf/") || section.startsWith("tracepoint/sched/");
  }

  @Override
  public String toString() {
    return name();
  }
}
