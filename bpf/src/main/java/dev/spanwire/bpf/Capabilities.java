package dev.spanwire.bpf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The effective capabilities of this process, from {@code /proc/self/status}. Capture needs
 * CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); reading other processes' /proc entries needs
 * CAP_SYS_PTRACE or CAP_DAC_READ_SEARCH.
 */
public record Capabilities(long effective) {
  public static final int CAP_DAC_READ_SEARCH = 2;
  public static final int CAP_SYS_PTRACE = 19;
  public static final int CAP_SYS_ADMIN = 21;
  public static final int CAP_SYS_NICE = 23;
  public static final int CAP_PERFMON = 38;
  public static final int CAP_BPF = 39;

  /** This process's effective set. */
  public static Capabilities current() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("CapEff:")) {
          return new Capabilities(Long.parseUnsignedLong(line.substring(7).trim(), 16));
        }
      }
    } catch (IOException | NumberFormatException e) {
      // treated as no capabilities
    }
    return new Capabilities(0);
  }

  public boolean has(int capability) {
    return (effective & (1L << capability)) != 0;
  }

  /** Whether BPF programs may be loaded and attached to tracepoints. */
  public boolean canCapture() {
    return has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON));
  }

  /** Whether other processes' environ and cmdline can be read. */
  public boolean canReadProcesses() {
    return has(CAP_SYS_PTRACE) || has(CAP_DAC_READ_SEARCH) || has(CAP_SYS_ADMIN);
  }

  /** The capabilities capture is missing, named, e.g. "CAP_BPF, CAP_PERFMON". */
  public String missingForCapture() {
    if (canCapture()) {
      return "";
    }
    List<String> missing = new ArrayList<>();
    if (!has(CAP_BPF)) {
      missing.add("CAP_BPF");
    }
    if (!has(CAP_PERFMON)) {
      missing.add("CAP_PERFMON");
    }
    return String.join(", ", missing);
  }
}
