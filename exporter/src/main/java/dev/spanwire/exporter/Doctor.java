package dev.spanwire.exporter;

import dev.spanwire.bpf.BpfException;
import dev.spanwire.bpf.Capabilities;
import dev.spanwire.bpf.BpfFeatures;
import dev.spanwire.bpf.CaptureBackend;
import dev.spanwire.bpf.CaptureConfig;
import dev.spanwire.bpf.SocketCapture;
import dev.spanwire.bpf.Tracefs;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code spanwire doctor}: one line per requirement of capture, each ok or missing with the fix.
 * Capture can work only when no required check is missing; optional ones only warn.
 */
final class Doctor {
  enum Status {
    OK("ok"),
    MISSING("missing"),
    WARN("warn");

    final String label;

    Status(String label) {
      this.label = label;
    }
  }

  record Check(String name, Status status, String detail, String fix, boolean required) {
    String line() {
      String text = String.format("%-8s %-20s %s", status.label, name, detail);
      return fix.isEmpty() || status == Status.OK ? text : text + " (fix: " + fix + ")";
    }
  }

  static final int MIN_JDK = 22;
  static final Path BTF = Path.of("/sys/kernel/btf/vmlinux");
  static final Path OSRELEASE = Path.of("/proc/sys/kernel/osrelease");

  private final List<Check> checks = new ArrayList<>();
  private String loadFailure;

  /** Runs every check, printing each line as it completes; returns the exit code. */
  int run(PrintStream out) {
    Capabilities privileges = Capabilities.current();
    jdk();
    kernel();
    btf();
    boolean libbpf = libbpf();
    privileges(privileges);
    boolean tracefs = tracefs(privileges);
    if (tracefs && libbpf) {
      tracepoints();
    }
    uprobes(tracefs);
    if (libbpf && privileges.canCapture()) {
      ringBuffer();
      if (checks.stream().noneMatch(c -> c.required() && c.status() == Status.MISSING)) {
        captureLoads(privileges);
      }
    }
    checks.forEach(c -> out.println(c.line()));
    if (loadFailure != null) {
      out.println(loadFailure);
    }
    boolean ready = checks.stream().noneMatch(c -> c.required() && c.status() != Status.OK);
    out.println(ready ? "capture can work" : "capture cannot work until the missing items are fixed");
    return ready ? ExitCode.OK : ExitCode.NO_CAPABILITY;
  }

  List<Check> checks() {
    return checks;
  }

  private void add(String name, boolean ok, String detail, String fix) {
    checks.add(new Check(name, ok ? Status.OK : Status.MISSING, detail, fix, true));
  }

  private void jdk() {
    int feature = Runtime.version().feature();
    add(
        "jdk",
        feature >= MIN_JDK,
        "Java " + Runtime.version() + " (FFM needs " + MIN_JDK + "+)",
        "install a JDK " + MIN_JDK + "+ and set JAVA_HOME");
  }

  private void kernel() {
    String release = read(OSRELEASE).trim();
    add(
        "kernel",
        kernelAtLeast(release, 5, 8),
        "Linux " + release + " (ring buffers need 5.8+)",
        "run on a kernel 5.8 or newer");
  }

  static boolean kernelAtLeast(String release, int major, int minor) {
    String[] parts = release.split("[.-]");
    try {
      int maj = Integer.parseInt(parts[0]);
      int min = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
      return maj > major || (maj == major && min >= minor);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private void btf() {
    add(
        "btf",
        Files.isReadable(BTF),
        BTF + (Files.isReadable(BTF) ? "" : " not readable"),
        "a kernel built with CONFIG_DEBUG_INFO_BTF=y");
  }

  private boolean libbpf() {
    var missing = BpfFeatures.libbpfMissing();
    if (missing.isPresent()) {
      add("libbpf", false, missing.get(), "apt-get install libbpf1");
      return false;
    }
    add("libbpf", true, "libbpf.so.1 " + BpfFeatures.libbpfVersion(), "");
    return true;
  }

  private void privileges(Capabilities privileges) {
    add(
        "privileges",
        privileges.canCapture(),
        privileges.canCapture()
            ? "CAP_BPF + CAP_PERFMON" + (privileges.has(Capabilities.CAP_SYS_ADMIN) ? " (CAP_SYS_ADMIN)" : "")
            : "missing " + privileges.missingForCapture(),
        "run as root, or grant CAP_BPF,CAP_PERFMON,CAP_SYS_PTRACE");
    if (privileges.canCapture() && !privileges.canReadProcesses()) {
      checks.add(
          new Check(
              "process info",
              Status.WARN,
              "no CAP_SYS_PTRACE/CAP_DAC_READ_SEARCH: other processes' command lines and"
                  + " OTEL_SERVICE_NAME are unreadable",
              "grant CAP_SYS_PTRACE",
              false));
    }
    if (privileges.canCapture() && !privileges.has(Capabilities.CAP_SYS_NICE)) {
      checks.add(
          new Check(
              "catch-up priority",
              Status.WARN,
              "no CAP_SYS_NICE: the ring buffer reader keeps its nice value when it falls behind"
                  + " (capture.catch-up-nice), and a busy host may fill the ring while the agent warms up",
              "grant CAP_SYS_NICE",
              false));
    }
  }

  private boolean tracefs(Capabilities privileges) {
    if (!Tracefs.isMounted() && privileges.canCapture()) {
      try {
        Tracefs.ensureMounted();
        add("tracefs", true, "mounted at " + Tracefs.MOUNT_POINT + " (was not)", "");
        return true;
      } catch (BpfException e) {
        add("tracefs", false, e.summary(), "mount -t tracefs tracefs " + Tracefs.MOUNT_POINT);
        return false;
      }
    }
    boolean mounted = Tracefs.isMounted();
    add(
        "tracefs",
        mounted,
        mounted ? "mounted at " + Tracefs.MOUNT_POINT : "not mounted",
        "mount -t tracefs tracefs " + Tracefs.MOUNT_POINT + " (as root)");
    return mounted;
  }

  /** Both backends' tracepoints: one of them is enough; auto runs the socket one where it is. */
  private void tracepoints() {
    List<String> socketMissing = missing(SocketCapture.tracepoints(CaptureBackend.SOCKET));
    List<String> syscallMissing = missing(SocketCapture.tracepoints(CaptureBackend.SYSCALL));
    boolean socket = socketMissing.isEmpty();
    checks.add(new Check(
        "socket tracepoints",
        socket ? Status.OK : Status.WARN,
        socket ? "present (the default backend here: only socket operations pay)"
            : "missing " + String.join(", ", socketMissing) + " (kernel before 6.3): the syscall backend runs",
        "a kernel 6.3 or newer",
        false));
    checks.add(new Check(
        "syscall tracepoints",
        syscallMissing.isEmpty() ? Status.OK : socket ? Status.WARN : Status.MISSING,
        syscallMissing.isEmpty() ? SocketCapture.tracepoints(CaptureBackend.SYSCALL).size() + " present"
            : "missing " + String.join(", ", syscallMissing),
        "a kernel with CONFIG_FTRACE_SYSCALLS=y",
        !socket));
  }

  private static List<String> missing(List<String> tracepoints) {
    List<String> missing = new ArrayList<>();
    for (String tracepoint : tracepoints) {
      if (!Files.isDirectory(Tracefs.MOUNT_POINT.resolve("events").resolve(tracepoint))) {
        missing.add(tracepoint);
      }
    }
    return missing;
  }

  private void uprobes(boolean tracefs) {
    boolean present =
        Files.exists(Path.of("/sys/bus/event_source/devices/uprobe/type"))
            || (tracefs && Files.exists(Tracefs.MOUNT_POINT.resolve("uprobe_events")));
    checks.add(
        new Check(
            "uprobes",
            present ? Status.OK : Status.WARN,
            present ? "available" : "not available (HTTPS capture through libssl needs them)",
            "a kernel with CONFIG_UPROBE_EVENTS=y",
            false));
  }

  private void ringBuffer() {
    boolean supported;
    try {
      supported = BpfFeatures.ringBufferSupported() && BpfFeatures.tracepointProgramsSupported();
    } catch (BpfException e) {
      add("ring buffer", false, e.summary(), "run on a kernel 5.8 or newer");
      return;
    }
    add("ring buffer", supported, supported ? "BPF_MAP_TYPE_RINGBUF supported" : "not supported", "run on a kernel 5.8 or newer");
  }

  /** The real proof: load, attach and detach the capture programs. */
  private void captureLoads(Capabilities privileges) {
    try (SocketCapture capture = SocketCapture.start(CaptureConfig.defaults(), event -> {})) {
      add("capture programs", true, capture.backend() + " backend: " + capture.attachments().size()
          + " tracepoints attached and detached", "");
      capture.tls().ifPresent(tls -> tlsHooks(tls, privileges));
    } catch (BpfException e) {
      add("capture programs", false, e.summary(), "report the libbpf and verifier output below");
      loadFailure = e.getMessage();
    }
  }

  /** Whether the system's libssl took the uprobes (HTTPS through OpenSSL); not needed for plain HTTP. */
  private void tlsHooks(dev.spanwire.bpf.TlsLibraries tls, Capabilities privileges) {
    if (tls.refusals() == 0) {
      checks.add(new Check("tls uprobes", Status.OK, tls.files().isEmpty() ? "no libssl on this system"
          : "libssl hooked (" + tls.files().size() + " file" + (tls.files().size() == 1 ? "" : "s") + ")", "", false));
      return;
    }
    boolean wantsAdmin = tls.refusedForPrivilege() && !privileges.has(Capabilities.CAP_SYS_ADMIN);
    checks.add(new Check("tls uprobes", Status.WARN, "libssl refused: " + tls.lastRefusal(),
        wantsAdmin ? "this kernel wants CAP_SYS_ADMIN for uprobes: grant it for HTTPS through OpenSSL (plain HTTP needs no more)"
            : "HTTPS through OpenSSL is not seen; plain HTTP is",
        false));
  }

  private static String read(Path path) {
    try {
      return Files.readString(path);
    } catch (IOException e) {
      return "unknown";
    }
  }
}
