package dev.spanwire.bpf;

import java.time.Duration;
import java.util.List;

/**
 * What the kernel programs capture and how the ring buffer is read.
 *
 * @param agentPid never traced (the agent itself)
 * @param targetPid only this process is traced; 0 for every process
 * @param captureBytes payload bytes copied per syscall, 1..{@value #MAX_CAPTURE_BYTES}
 * @param capturePorts connections on these ports send payload even when their first bytes do not
 *     look like HTTP; at most {@value #MAX_CAPTURE_PORTS}
 * @param allPorts every port is a capture port: every TCP connection sends payload
 * @param ringBufferBytes ring buffer size: a power of two, at least one page
 * @param wakeupBytes the reader is woken when the data waiting passes a multiple of this (0: by
 *     the kernel's own rule, when it had read everything before a record)
 * @param pollInterval the reader drains the ring buffer at least this often
 * @param stashEntries room for syscall arguments in flight (threads); 0 sizes it for the host
 * @param backend how the kernel sees socket data
 * @param catchUpNice the ring-buffer reader's nice value while it is behind ({@link ThreadNice}); 0
 *     leaves it at the process's
 * @param followHttp2 the socket capture follows HTTP/2 frames and sends large DATA payloads as their
 *     length only (off while bodies are captured)
 */
public record CaptureConfig(
    int agentPid,
    int targetPid,
    int captureBytes,
    List<Integer> capturePorts,
    boolean allPorts,
    int ringBufferBytes,
    int wakeupBytes,
    Duration pollInterval,
    int stashEntries,
    CaptureBackend backend,
    int catchUpNice,
    boolean followHttp2) {

  public static final int DEFAULT_CAPTURE_BYTES = 4096;
  /** The largest capture size a user may set; HTTP/2 connections get {@code MAX_CAPTURE_BYTES} of the kernel's. */
  public static final int MAX_CAPTURE_BYTES = 16384;
  public static final int MAX_CAPTURE_PORTS = EventLayouts.MAX_CAPTURE_PORTS;
  public static final int DEFAULT_RING_BUFFER_BYTES = 8 << 20;
  /**
   * The reader's nice value while it is behind. Agents started on a loaded 2-core host with a 1 MiB
   * ring lost events in their first seconds in 6 starts of 6 at 0, in 3 of 6 at -5, in none at -10.
   */
  public static final int DEFAULT_CATCH_UP_NICE = -10;
  /**
   * The reader's longest sleep; with the wakeup threshold at an eighth of the ring it drains in
   * batches of tens of milliseconds (about 25 wakeups a second under wrk, against 90 at 10 ms and a
   * 32nd): the pipeline's state is cold at each wakeup, so larger batches cost less per record.
   */
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(50);
  /** The reader is woken when this fraction of the ring (its inverse) waits. */
  static final int WAKEUP_FRACTION = 8;
  /** Bounds of the syscall argument maps when sized for the host. */
  public static final int MIN_STASH_ENTRIES = 16384;
  public static final int MAX_STASH_ENTRIES = 262144;
  /** The kernel's connection table size (max_entries of conn_info). */
  public static final int MAX_CONNECTIONS = 65536;

  /** The same without a stash size (sized for the host), the backend the kernel has and the default catch-up nice value. */
  public CaptureConfig(
      int agentPid, int targetPid, int captureBytes, List<Integer> capturePorts, boolean allPorts,
      int ringBufferBytes, int wakeupBytes, Duration pollInterval) {
    this(agentPid, targetPid, captureBytes, capturePorts, allPorts, ringBufferBytes, wakeupBytes, pollInterval, 0,
        CaptureBackend.AUTO, DEFAULT_CATCH_UP_NICE, true);
  }

  public CaptureConfig {
    if (agentPid < 0 || targetPid < 0) {
      throw new IllegalArgumentException("pids must not be negative");
    }
    if (captureBytes < 1 || captureBytes > MAX_CAPTURE_BYTES) {
      throw new IllegalArgumentException(
          "capture bytes must be 1.." + MAX_CAPTURE_BYTES + ", got " + captureBytes);
    }
    capturePorts = List.copyOf(capturePorts);
    if (capturePorts.size() > MAX_CAPTURE_PORTS) {
      throw new IllegalArgumentException(
          "at most " + MAX_CAPTURE_PORTS + " capture ports, got " + capturePorts.size());
    }
    for (int port : capturePorts) {
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port must be 1..65535, got " + port);
      }
    }
    if (ringBufferBytes < 4096 || Integer.bitCount(ringBufferBytes) != 1) {
      throw new IllegalArgumentException(
          "ring buffer bytes must be a power of two of at least 4096, got " + ringBufferBytes);
    }
    if (wakeupBytes < 0 || wakeupBytes > ringBufferBytes) {
      throw new IllegalArgumentException(
          "wakeup bytes must be 0.." + ringBufferBytes + ", got " + wakeupBytes);
    }
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("poll interval must be positive, got " + pollInterval);
    }
    java.util.Objects.requireNonNull(backend, "backend");
    if (stashEntries < 0) {
      throw new IllegalArgumentException("stash entries must not be negative, got " + stashEntries);
    }
    ThreadNice.checkRange(catchUpNice);
  }

  /**
   * Everything traced except this JVM, 4 KiB per syscall, an 8 MiB ring buffer, the backend the
   * kernel has (or the one {@value #BACKEND_PROPERTY} names).
   */
  public static CaptureConfig defaults() {
    return new CaptureConfig(
        Math.toIntExact(ProcessHandle.current().pid()),
        0,
        DEFAULT_CAPTURE_BYTES,
        List.of(),
        false,
        DEFAULT_RING_BUFFER_BYTES,
        DEFAULT_RING_BUFFER_BYTES / WAKEUP_FRACTION,
        DEFAULT_POLL_INTERVAL,
        0,
        CaptureBackend.of(System.getProperty(BACKEND_PROPERTY, "auto")),
        DEFAULT_CATCH_UP_NICE,
        true);
  }

  /**
   * The system property that chooses the backend of {@link #defaults()} (tests run the kernel
   * suite once per backend with it); the agent sets its backend from its configuration.
   */
  public static final String BACKEND_PROPERTY = "spanwire.capture.backend";

  public CaptureConfig withTargetPid(int pid) {
    return new CaptureConfig(agentPid, pid, captureBytes, capturePorts, allPorts, ringBufferBytes, wakeupBytes, pollInterval, stashEntries, backend, catchUpNice, followHttp2);
  }

  public CaptureConfig withCaptureBytes(int bytes) {
    return new CaptureConfig(agentPid, targetPid, bytes, capturePorts, allPorts, ringBufferBytes, wakeupBytes, pollInterval, stashEntries, backend, catchUpNice, followHttp2);
  }

  /** Every port a capture port, or only those of {@link #capturePorts}. */
  public CaptureConfig withAllPorts(boolean all) {
    return new CaptureConfig(agentPid, targetPid, captureBytes, capturePorts, all, ringBufferBytes, wakeupBytes, pollInterval, stashEntries, backend, catchUpNice, followHttp2);
  }

  public CaptureConfig withCapturePorts(List<Integer> ports) {
    return new CaptureConfig(agentPid, targetPid, captureBytes, ports, allPorts, ringBufferBytes, wakeupBytes, pollInterval, stashEntries, backend, catchUpNice, followHttp2);
  }

  /** Sets the ring buffer size, keeping the wakeup threshold at {@code 1 / WAKEUP_FRACTION} of it. */
  public CaptureConfig withRingBufferBytes(int bytes) {
    return new CaptureConfig(agentPid, targetPid, captureBytes, capturePorts, allPorts, bytes, bytes / WAKEUP_FRACTION, pollInterval,
        stashEntries, backend, catchUpNice, followHttp2);
  }

  /** Room for this many threads' syscall arguments in flight (0: sized for the host). */
  public CaptureConfig withStashEntries(int entries) {
    return new CaptureConfig(agentPid, targetPid, captureBytes, capturePorts, allPorts, ringBufferBytes, wakeupBytes, pollInterval, entries, backend, catchUpNice, followHttp2);
  }

  /** How the kernel sees socket data: socket tracepoints, syscall tracepoints, or whichever the kernel has. */
  public CaptureConfig withBackend(CaptureBackend newBackend) {
    return new CaptureConfig(agentPid, targetPid, captureBytes, capturePorts, allPorts, ringBufferBytes, wakeupBytes,
        pollInterval, stashEntries, newBackend, catchUpNice, followHttp2);
  }

  /** The ring-buffer reader's nice value while it is behind; 0 leaves it at the process's. */
  public CaptureConfig withCatchUpNice(int nice) {
    return new CaptureConfig(agentPid, targetPid, captureBytes, capturePorts, allPorts, ringBufferBytes, wakeupBytes,
        pollInterval, stashEntries, backend, nice, followHttp2);
  }

  public CaptureConfig withWakeupBytes(int bytes) {
    return new CaptureConfig(agentPid, targetPid, captureBytes, capturePorts, allPorts, ringBufferBytes, bytes, pollInterval, stashEntries, backend, catchUpNice, followHttp2);
  }

  /** Whether the socket capture follows HTTP/2 frames and leaves large DATA payloads uncopied. */
  public CaptureConfig withFollowHttp2(boolean follow) {
    return new CaptureConfig(agentPid, targetPid, captureBytes, capturePorts, allPorts, ringBufferBytes, wakeupBytes,
        pollInterval, stashEntries, backend, catchUpNice, follow);
  }
}
