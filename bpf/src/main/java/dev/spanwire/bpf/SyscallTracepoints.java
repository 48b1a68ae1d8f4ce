package dev.spanwire.bpf;

/**
 * The capture source on syscall tracepoints: connect, accept, the read and write families,
 * sendfile and close (arguments at {@code sys_enter_*}, data at {@code sys_exit_*}), plus the
 * process hooks (exit, exec) every source needs.
 */
public final class SyscallTracepoints implements CaptureSource {
  public static final SyscallTracepoints INSTANCE = new SyscallTracepoints();

  private SyscallTracepoints() {}

  @Override
  public String name() {
    return "syscall tracepoints";
  }

  @Override
  public boolean owns(String section) {
    return section.startsWith("tracepoint/syscalls/") || section.startsWith("tracepoint/sched/");
  }

  @Override
  public String toString() {
    return name();
  }
}
