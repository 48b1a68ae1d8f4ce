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
 * @param resourceAttributes the process's own {@code OTEL_RESOURCE_ATTRIBUTES}, decoded (empty when unset)
 */
public record ProcessInfo(
    int pid,
    String comm,
    String executable,
    String commandLine,
    String serviceName,
    String containerId,
    int uid,
    int gid,
    java.util.Map<String, String> resourceAttributes) {

  public ProcessInfo {
    resourceAttributes = resourceAttributes == null ? java.util.Map.of() : java.util.Map.copyOf(resourceAttributes);
  }

  /** A process without resource attributes of its own. */
  public ProcessInfo(
      int pid, String comm, String executable, String commandLine, String serviceName, String containerId, int uid, int gid) {
    this(pid, comm, executable, commandLine, serviceName, containerId, uid, gid, java.util.Map.of());
  }

  /** Where {@link #service} comes from, as the resource says it ({@code spanwire.service.name.source}). */
  public String serviceSource() {
    if (serviceName != null) {
      return "OTEL_SERVICE_NAME";
    }
    return resourceAttributes.containsKey("service.name") ? "OTEL_RESOURCE_ATTRIBUTES" : "executable";
  }

  /** The service name spans and metrics of this process carry. */
  public String service() {
    if (serviceName != null) {
      return serviceName;
    }
    String declared = resourceAttributes.get("service.name");
    return declared != null && !declared.isBlank() ? declared : executable;
  }

  /**
   * The pid and command line only: processes key the per-process maps of every exchange, and a
   * record's generated hash would hash all eight components each time. Equality stays whole.
   */
  @Override
  public int hashCode() {
    return 31 * pid + java.util.Objects.hashCode(commandLine);
  }

  /**
   * Every component, as a record's generated equality compares them, written out: the generated
   * one runs through method handles, a chain of calls per comparison in the C1 code the
   * per-exchange methods that key maps by a process run as (their C2 compiles outgrow the compile
   * memory bound), and half the nodes of such a C2 compile where it had room.
   */
  @Override
  public boolean equals(Object other) {
    return other == this
        || other instanceof ProcessInfo that
            && pid == that.pid && uid == that.uid && gid == that.gid
            && java.util.Objects.equals(commandLine, that.commandLine)
            && java.util.Objects.equals(comm, that.comm)
            && java.util.Objects.equals(executable, that.executable)
            && java.util.Objects.equals(serviceName, that.serviceName)
            && java.util.Objects.equals(containerId, that.containerId)
            && resourceAttributes.equals(that.resourceAttributes);
  }
}
