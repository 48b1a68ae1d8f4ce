package dev.spanwire.exporter.exchange;

/**
 * A traced process, read once from /proc when its first connection appears.
 *
 * @param pid process id
 * @param comm the process's command name (/proc/PID/comm), else the thread's from the kernel
 * @param executable the executable's file name (/proc/PID/exe), else {@code comm}
 * @param commandLine arguments joined by spaces, else {@code comm}
 * @param serviceName the process's own {@code OTEL_SERVICE_NAME}, or null
 * @param containerId the container id its cgroup names, or null
 * @param uid user id
 * @param gid group id
 */
public record ProcessInfo(
    int pid,
    String comm,
    String executable,
    String commandLine,
    String serviceName,
    String containerId,
    int uid,
    int gid) {

  /** The service name spans and metrics of this process carry. */
  public String service() {
    return serviceName != null ? serviceName : executable;
  }

  /**
   * The pid and command line only: processes key the per-process maps of every exchange, and a
   * record's generated hash would hash all eight components each time. Equality stays whole.
   */
  @Override
  public int hashCode() {
    return 31 * pid + java.util.Objects.hashCode(commandLine);
  }
}
