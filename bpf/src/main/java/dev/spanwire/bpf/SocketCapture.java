package dev.spanwire.bpf;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Socket traffic from the kernel: loads {@code spanwire.bpf.o} from the classpath, attaches its
 * syscall tracepoints and hands every decoded {@link SocketEvent} to a consumer on the ring
 * buffer reader's thread. The consumer must be quick (queue the event and return).
 *
 * <p>Owns the object, its links and the reader, and closes them in reverse order. {@link #close}
 * may run on any thread, more than once; the reader drains the ring buffer before it stops.
 */
public final class SocketCapture implements AutoCloseable {
  static final String OBJECT = "spanwire.bpf.o";

  private final BpfObject object;
  private final List<BpfLink> links;
  private final RingBufferReader reader;
  private final BpfMap statsMap;
  private final int possibleCpus;
  private final AtomicLong malformed;
  private CaptureStats finalStats;
  private boolean closed;

  private SocketCapture(
      BpfObject object,
      List<BpfLink> links,
      RingBufferReader reader,
      int possibleCpus,
      AtomicLong malformed) {
    this.object = object;
    this.links = links;
    this.reader = reader;
    this.statsMap = object.map("capture_stats");
    this.possibleCpus = possibleCpus;
    this.malformed = malformed;
  }

  /**
   * Loads and attaches the capture programs and starts reading. Needs root or CAP_BPF +
   * CAP_PERFMON; mounts tracefs when it is missing.
   */
  public static SocketCapture start(CaptureConfig config, SocketEventHandler handler) {
    Tracefs.ensureMounted();
    int cpus = Libbpf.numPossibleCpus();
    BpfObject object = BpfObject.openResource(SocketCapture.class, OBJECT);
    List<BpfLink> links = new ArrayList<>();
    RingBufferReader reader = null;
    try {
      configure(object, config, cpus);
      object.load();
      for (BpfProgram program : object.programs()) {
        links.add(program.attach());
      }
      AtomicLong malformed = new AtomicLong();
      reader =
          RingBufferReader.start(
              object.map("events"),
              new RingBufferReader.RecordHandler() {
                @Override
                public void onRecord(MemorySegment record) {
                  SocketEvent event;
                  try {
                    event = EventDecoder.decode(record);
                  } catch (EventDecoder.MalformedEventException e) {
                    malformed.incrementAndGet();
                    return;
                  }
                  handler.onEvent(event);
                }

                @Override
                public void afterBatch() {
                  handler.afterBatch();
                }
              },
              config.pollInterval());
      return new SocketCapture(object, links, reader, cpus, malformed);
    } catch (RuntimeException | Error e) {
      if (reader != null) {
        reader.close();
      }
      closeAll(links, e);
      object.close();
      throw e;
    }
  }

  /** The tracepoints the programs attach to, e.g. {@code syscalls/sys_enter_read}; no kernel needed. */
  public static List<String> tracepoints() {
    try (BpfObject object = BpfObject.openResource(SocketCapture.class, OBJECT)) {
      return object.programs().stream()
          .map(BpfProgram::section)
          .filter(section -> section.startsWith("tracepoint/"))
          .map(section -> section.substring("tracepoint/".length()))
          .toList();
    }
  }

  private static void configure(BpfObject object, CaptureConfig config, int cpus) {
    BpfMap rodata = object.map(".rodata");
    if (rodata.initialValueSize() != EventLayouts.CAPTURE_CONFIG.byteSize()) {
      throw new BpfException(
          "configure " + object.name(),
          0,
          ".rodata holds "
              + rodata.initialValueSize()
              + " bytes, struct capture_config is "
              + EventLayouts.CAPTURE_CONFIG.byteSize());
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment value = arena.allocate(EventLayouts.CAPTURE_CONFIG);
      var layout = EventLayouts.CAPTURE_CONFIG;
      value.set(JAVA_INT, EventLayouts.offset(layout, "agent_tgid"), config.agentPid());
      value.set(JAVA_INT, EventLayouts.offset(layout, "target_tgid"), config.targetPid());
      value.set(JAVA_INT, EventLayouts.offset(layout, "capture_bytes"), config.captureBytes());
      value.set(JAVA_INT, EventLayouts.offset(layout, "wakeup_bytes"), config.wakeupBytes());
      long ports = EventLayouts.offset(layout, "capture_ports");
      List<Integer> capturePorts = config.capturePorts();
      for (int i = 0; i < capturePorts.size(); i++) {
        value.set(JAVA_SHORT, ports + 2L * i, (short) (int) capturePorts.get(i));
      }
      value.set(JAVA_INT, EventLayouts.offset(layout, "all_ports"), config.allPorts() ? 1 : 0);
      rodata.setInitialValue(value);
    }
    object.map("data_buffers").setMaxEntries(cpus);
    object.map("events").setMaxEntries(config.ringBufferBytes());
  }

  /** Counters summed over CPUs; any thread, also after close (the last values). */
  public synchronized CaptureStats stats() {
    return closed ? finalStats : readStats();
  }

  private CaptureStats readStats() {
    long lost = 0;
    long bytesLost = 0;
    long untracked = 0;
    long stride = (EventLayouts.CAPTURE_STATS.byteSize() + 7) & ~7L;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment key = arena.allocate(JAVA_INT);
      MemorySegment values = arena.allocate(stride * possibleCpus, 8);
      if (statsMap.lookup(key, values)) {
        for (int cpu = 0; cpu < possibleCpus; cpu++) {
          long base = stride * cpu;
          var layout = EventLayouts.CAPTURE_STATS;
          lost += values.get(JAVA_LONG, base + EventLayouts.offset(layout, "events_lost"));
          bytesLost += values.get(JAVA_LONG, base + EventLayouts.offset(layout, "bytes_lost"));
          untracked += values.get(JAVA_LONG, base + EventLayouts.offset(layout, "conns_untracked"));
        }
      }
    }
    return new CaptureStats(
        reader.records(), lost, bytesLost, untracked, malformed.get(), reader.handlerFailures());
  }

  /** Whether the reader still runs; a ring buffer error stops it (see {@link #failure}). */
  public boolean isRunning() {
    return reader.isRunning();
  }

  /** The error that stopped the reader, or null. */
  public BpfException failure() {
    return reader.failure();
  }

  /** Where each program is attached. */
  public List<String> attachments() {
    return links.stream().map(BpfLink::target).toList();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    RuntimeException failure = null;
    try {
      // detach first so nothing new arrives, then drain and stop the reader
      closeAll(links, null);
    } catch (RuntimeException e) {
      failure = e;
    }
    reader.close();
    finalStats = readStats();
    object.close();
    if (failure != null) {
      throw failure;
    }
  }

  private static void closeAll(List<BpfLink> links, Throwable primary) {
    RuntimeException first = null;
    for (int i = links.size() - 1; i >= 0; i--) {
      try {
        links.get(i).close();
      } catch (RuntimeException e) {
        if (primary != null) {
          primary.addSuppressed(e);
        } else if (first == null) {
          first = e;
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  @Override
  public String toString() {
    return "SocketCapture{" + OBJECT + ", " + links.size() + " links, " + reader + "}";
  }
}
