package dev.spanwire.exporter.connection;

import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.filter.Redaction;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What /proc says of traced processes, read once per process and cached. A cached entry older
 * than {@link #REVALIDATE_NANOS} is checked against the process's start time, so a reused pid
 * gets fresh information; exited processes are dropped by {@link #sweep}. At most
 * {@link #MAX_PROCESSES} are kept. A short-lived process may be gone before it is read: then the
 * kernel's command name stands in for everything.
 *
 * <p>Owned by the pipeline thread.
 */
final class ProcessRegistry {
  static final int MAX_PROCESSES = 4096;
  static final long REVALIDATE_NANOS = 30_000_000_000L;
  private static final int MAX_CMDLINE_BYTES = 4096;
  private static final int MAX_ENVIRON_BYTES = 256 * 1024;
  private static final Pattern CONTAINER_ID = Pattern.compile("([0-9a-f]{64})");

  private record Cached(ProcessInfo info, String startTime, long checkedNanos) {}

  /** Reads at most {@code max} bytes of a /proc file, or null when it cannot be read. */
  @FunctionalInterface
  interface ProcFiles {
    byte[] read(Path path, int max);
  }

  private final Path proc;
  private final Redaction redaction;
  private final ProcFiles files;
  private final Map<Integer, Cached> entries =
      new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, Cached> eldest) {
          return size() > MAX_PROCESSES;
        }
      };

  /** @param redaction applied to command lines, which often carry secrets (curl -H, --password=) */
  ProcessRegistry(Path proc, Redaction redaction) {
    this(proc, redaction, ProcessRegistry::readBytes);
  }

  /** @param files how /proc's files are read: tests put a process's exit between two reads */
  ProcessRegistry(Path proc, Redaction redaction, ProcFiles files) {
    this.proc = proc;
    this.redaction = redaction;
    this.files = files;
  }

  ProcessRegistry(Path proc) {
    this(proc, Redaction.defaults());
  }

  /**
   * The process {@code pid}; {@code comm}, {@code kernelCommandLine}, uid and gid come from the
   * kernel event and stand in for what /proc no longer has.
   */
  ProcessInfo get(int pid, String comm, String kernelCommandLine, int uid, int gid, long nowNanos) {
    Cached entry = entries.get(pid);
    if (entry != null) {
      if (nowNanos - entry.checkedNanos() < REVALIDATE_NANOS) {
        return entry.info();
      }
      String startTime = startTime(pid);
      if (startTime == null || startTime.equals(entry.startTime())) {
        entries.put(pid, new Cached(entry.info(), entry.startTime(), nowNanos));
        return entry.info();
      }
    }
    Cached fresh = read(pid, comm, kernelCommandLine, uid, gid, nowNanos);
    entries.put(pid, fresh);
    return fresh.info();
  }

  /**
   * Reads what /proc says of {@code pid} now, if it is there: at exec, well before the program's
   * first connection is handled, so a short-lived client (gone by the time its connection's first
   * event is read) keeps its service name and executable.
   */
  void prefetch(int pid, long nowNanos) {
    Path dir = proc.resolve(Integer.toString(pid));
    String status = readString(dir.resolve("status"), 4096);
    String comm = readString(dir.resolve("comm"), 64);
    String commandLine = readString(dir.resolve("cmdline"), 16);
    if (status == null || comm == null || comm.isBlank() || commandLine == null || commandLine.isEmpty()
        || status.contains("\nState:\tZ")) {
      return; // gone already (a zombie has no command line): the connection's kernel event will stand in
    }
    Cached fresh = read(pid, comm.strip(), "", statusId(status, "Uid:"), statusId(status, "Gid:"), nowNanos);
    // an exiting process loses its memory (command line, environment, executable) before it turns
    // zombie: a command line still there after the read says the read saw it whole; one gone would
    // leave the command name cached over the kernel's command line
    String stillThere = readString(dir.resolve("cmdline"), 16);
    if (stillThere != null && !stillThere.isEmpty() && fresh.startTime() != null) {
      entries.put(pid, fresh);
    }
  }

  /** The real id on a /proc/PID/status line ({@code Uid:\t0\t0\t0\t0}), or -1. */
  private static int statusId(String status, String key) {
    int at = status.indexOf("\n" + key);
    if (at < 0) {
      return -1;
    }
    int i = at + key.length() + 1;
    while (i < status.length() && (status.charAt(i) == '\t' || status.charAt(i) == ' ')) {
      i++;
    }
    int value = 0;
    boolean digits = false;
    while (i < status.length() && Character.isDigit(status.charAt(i))) {
      value = value * 10 + (status.charAt(i) - '0');
      digits = true;
      i++;
    }
    return digits ? value : -1;
  }

  /** Forgets what was read of {@code pid}: it exited (the pid may be reused) or ran another program. */
  void forget(int pid) {
    entries.remove(pid);
  }

  /** Whether /proc has the process. */
  boolean alive(int pid) {
    return Files.exists(proc.resolve(Integer.toString(pid)));
  }

  /**
   * Whether the process's fd still names the socket with inode {@code ino}: /proc/PID/fd/FD reads
   * {@code socket:[ino]}. True when it cannot be told (no /proc entry to read).
   */
  boolean holdsSocket(int pid, int fd, long ino) {
    if (fd < 0 || ino == 0) {
      return true;
    }
    try {
      return Files.readSymbolicLink(proc.resolve(Integer.toString(pid)).resolve("fd").resolve(Integer.toString(fd)))
          .toString().equals("socket:[" + ino + "]");
    } catch (java.nio.file.NoSuchFileException e) {
      return false;
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return true;
    }
  }

  /** Forgets processes that have exited; returns how many. */
  int sweep() {
    int removed = 0;
    for (Iterator<Integer> it = entries.keySet().iterator(); it.hasNext(); ) {
      if (!Files.exists(proc.resolve(Integer.toString(it.next())))) {
        it.remove();
        removed++;
      }
    }
    return removed;
  }

  int size() {
    return entries.size();
  }

  private Cached read(int pid, String kernelComm, String kernelCommandLine, int uid, int gid, long nowNanos) {
    Path dir = proc.resolve(Integer.toString(pid));
    String comm = readString(dir.resolve("comm"), 64);
    comm = comm == null || comm.isBlank() ? kernelComm : comm.strip();
    String executable = executableOf(kernelCommandLine, comm);
    try {
      Path exe = Files.readSymbolicLink(dir.resolve("exe")).getFileName();
      if (exe != null) {
        executable = exe.toString().replace(" (deleted)", "");
      }
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      // kernel threads, exited processes, no privilege: the command name stands in
    }
    String commandLine = readString(dir.resolve("cmdline"), MAX_CMDLINE_BYTES);
    if (commandLine == null || commandLine.isEmpty()) {
      commandLine = kernelCommandLine == null || kernelCommandLine.isEmpty() ? comm : kernelCommandLine;
    }
    commandLine = redaction.commandLine(commandLine, '\0');
    String serviceName = environmentValue(dir.resolve("environ"), "OTEL_SERVICE_NAME=");
    String containerId = null;
    String cgroup = readString(dir.resolve("cgroup"), 8192);
    if (cgroup != null) {
      Matcher m = CONTAINER_ID.matcher(cgroup);
      if (m.find()) {
        containerId = m.group(1);
      }
    }
    java.util.Map<String, String> resourceAttributes =
        resourceAttributes(environmentValue(dir.resolve("environ"), "OTEL_RESOURCE_ATTRIBUTES="));
    resourceAttributes.replaceAll(redaction::setting); // an api.key=... goes no further
    ProcessInfo info =
        new ProcessInfo(pid, comm, executable, commandLine, serviceName, containerId, uid, gid, resourceAttributes);
    return new Cached(info, startTime(pid), nowNanos);
  }

  /** Attributes a process declares of itself: at most this many, each value at most {@link #MAX_ATTRIBUTE_CHARS}. */
  static final int MAX_RESOURCE_ATTRIBUTES = 64;
  static final int MAX_ATTRIBUTE_CHARS = 1024;

  /**
   * {@code OTEL_RESOURCE_ATTRIBUTES} as the SDKs read it: {@code key=value} pairs separated by
   * commas, values percent-decoded. A pair that does not parse is skipped (the process's own
   * setting, not ours to refuse); bounded in count and length.
   */
  static java.util.Map<String, String> resourceAttributes(String value) {
    java.util.Map<String, String> attributes = new java.util.LinkedHashMap<>();
    if (value == null || value.isBlank()) {
      return attributes;
    }
    for (String pair : value.split(",")) {
      int eq = pair.indexOf('=');
      if (eq <= 0 || attributes.size() >= MAX_RESOURCE_ATTRIBUTES) {
        continue;
      }
      String key = pair.substring(0, eq).strip();
      String raw = pair.substring(eq + 1).strip();
      String decoded;
      try {
        decoded = java.net.URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        continue;
      }
      if (!key.isEmpty() && decoded.length() <= MAX_ATTRIBUTE_CHARS) {
        attributes.put(key, decoded);
      }
    }
    return attributes;
  }

  /** The file name of the first of NUL-separated arguments, as the process was started, else {@code comm}. */
  private static String executableOf(String commandLine, String comm) {
    if (commandLine == null || commandLine.isBlank()) {
      return comm;
    }
    int end = commandLine.indexOf('\0');
    String first = end < 0 ? commandLine : commandLine.substring(0, end);
    String name = first.substring(first.lastIndexOf('/') + 1);
    return name.isEmpty() ? comm : name;
  }

  /** Field 22 of /proc/PID/stat, the start time in clock ticks, or null. */
  private String startTime(int pid) {
    String stat = readString(proc.resolve(Integer.toString(pid)).resolve("stat"), 1024);
    if (stat == null) {
      return null;
    }
    // the command name (field 2) may hold spaces and parentheses: count from the last ')'
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return fields.length > 19 ? fields[19] : null;
  }

  private String environmentValue(Path environ, String prefix) {
    byte[] bytes = files.read(environ, MAX_ENVIRON_BYTES);
    if (bytes == null) {
      return null;
    }
    String all = new String(bytes, StandardCharsets.UTF_8);
    int start = all.startsWith(prefix) ? 0 : all.indexOf("\0" + prefix);
    if (start < 0) {
      return null;
    }
    if (start > 0) {
      start++;
    }
    int end = all.indexOf('\0', start);
    String value = all.substring(start + prefix.length(), end < 0 ? all.length() : end).strip();
    return value.isEmpty() ? null : value;
  }

  private String readString(Path path, int max) {
    byte[] bytes = files.read(path, max);
    return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
  }

  private static byte[] readBytes(Path path, int max) {
    try (InputStream in = Files.newInputStream(path)) {
      return in.readNBytes(max);
    } catch (IOException | SecurityException e) {
      return null;
    }
  }
}
