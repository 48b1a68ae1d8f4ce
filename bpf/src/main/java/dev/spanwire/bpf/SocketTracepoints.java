package dev.spanwire.bpf;

/**
 * The capture source on socket tracepoints (kernel 6.3+): {@code sock:sock_send_length} and
 * {@code sock:sock_recv_length} for data (the syscall that moved it read from the task's
 * registers), {@code tcp:tcp_sendmsg_locked} for when a send starts (where the kernel has it),
 * {@code sock:inet_sock_set_state} for connect and accept, {@code tcp:tcp_destroy_sock}
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

  /**
   * The program that stamps a send when it starts; the tracepoint ({@code tcp:tcp_sendmsg_locked})
   * is younger than the socket ones, and where the kernel lacks it the program is left out (writes
   * are then stamped as they return).
   */
  static final String SEND_START = "tp_btf/tcp_sendmsg_locked";

  @Override
  public boolean owns(String section) {
    if (section.equals(SEND_START)) {
      return sendStartAvailable();
    }
    return section.startsWith("tp_btf/") || section.startsWith("tracepoint/sched/");
  }

  /** Whether this kernel has {@code tcp:tcp_sendmsg_locked} (tracefs must be mounted to tell). */
  public static boolean sendStartAvailable() {
    return java.nio.file.Files.isDirectory(Tracefs.MOUNT_POINT.resolve("events/tcp/tcp_sendmsg_locked"));
  }

  @Override
  public String toString() {
    return name();
  }
}
