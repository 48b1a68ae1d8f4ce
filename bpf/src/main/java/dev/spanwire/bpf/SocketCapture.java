package dev.spanwire.bpf;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Socket traffic from the kernel: loads {@code spanwire.bpf.o} from the classpath
 * ({@link #load}), then attaches its tracepoints and hands every decoded {@link SocketEvent} to a
 * consumer on the ring buffer reader's thread ({@link #start}). The consumer must be quick (queue
 * the event and return). Between the two, the loaded capture's {@link #connections()} table can be
 * given to the consumer.
 *
 * <p>Owns the object, its links and the reader, and closes them in reverse order. {@link #close}
 * may run on any thread, more than once; the reader drains the ring buffer before it stops.
 */
public final class SocketCapture implements AutoCloseable, ConnectionTable {
  static final String OBJECT = "spanwire.bpf.o";
  /** Kernel connection states (enum conn_state of maps.h). */
  private static final int CONN_TRACED = 1;

  private final BpfObject object;
  private final CaptureConfig config;
  private final CaptureBackend backend;
  private final java.util.Map<CaptureSource, List<BpfLink>> sources = new java.util.LinkedHashMap<>();
  private RingBufferReader reader;
  private TlsLibraries tls;
  private final BpfMap statsMap;
  private final BpfMap connInfo;
  private final int possibleCpus;
  private final AtomicLong malformed = new AtomicLong();
  private final BpfMap skipHints;
  /** The reader thread's scratch for skip hints: they are given on that thread. */
  private final Arena hintArena = Arena.ofShared();
  private final MemorySegment hintKey = hintArena.allocate(EventLayouts.SKIP_KEY);
  private final MemorySegment hintValue = hintArena.allocate(EventLayouts.SKIP_HINT);
  private final AtomicLong hintFailures = new AtomicLong();
  /**
   * Guards the counters' maps and {@link #finalStats} apart from this object's monitor: the
   * reader thread reads the counters (the pipeline's loss checks) while {@link #close} holds the
   * monitor and waits for that thread to stop.
   */
  private final Object statsLock = new Object();
  private CaptureStats finalStats;
  private boolean closed;

  private SocketCapture(BpfObject object, CaptureConfig config, CaptureBackend backend, int possibleCpus) {
    this.object = object;
    this.config = config;
    this.backend = backend;
    this.statsMap = object.map("capture_stats");
    this.connInfo = object.map("conn_info");
    this.skipHints = object.map("skip_hints");
    this.possibleCpus = possibleCpus;
  }

  /**
   * Loads and attaches the capture programs and starts reading. Needs root or CAP_BPF +
   * CAP_PERFMON; mounts tracefs when it is missing.
   */
  public static SocketCapture start(CaptureConfig config, SocketEventHandler handler) {
    SocketCapture capture = load(config);
    try {
      capture.start(handler);
      return capture;
    } catch (RuntimeException | Error e) {
      capture.close();
      throw e;
    }
  }

  /** The object the next {@link #load} takes, opened by the work {@link #preparation} returned. */
  private static final AtomicReference<FutureTask<BpfObject>> OPENED_AHEAD = new AtomicReference<>();

  /**
   * The work that makes a start quicker, for a thread started early, while the caller reads its
   * configuration and the kernel verifies the programs (the other core's time): it binds the native
   * calls a capture makes — libbpf's and libc's, the libbpf log callback — which {@link #load} and
   * {@link #start} would otherwise bind on first use (each distinct C signature costs its FFM stub,
   * ~10 ms at start and about a third of a second in all), opens the object for the next {@link
   * #load} (libbpf parses it and the kernel's BTF: 60-110 ms of a start) and analyses the system's
   * TLS libraries for {@link TlsLibraries#attachSystemLibraries} (about 50 ms). Called before the
   * {@link #load} it is for; a load that comes before the work has begun opens the object itself,
   * one that comes during it waits for it. Failures are left for the caller's own use to report (a
   * missing libbpf fails the same way there).
   */
  public static Runnable preparation() {
    FutureTask<BpfObject> opening = new FutureTask<>(() -> BpfObject.openResource(SocketCapture.class, OBJECT));
    closeUnused(OPENED_AHEAD.getAndSet(opening));
    return () -> {
      var lookup = MethodHandles.lookup();
      try {
        for (Class<?> type : new Class<?>[] {Libbpf.class, LibbpfLog.class, Libbpf.Elements.class}) {
          lookup.ensureInitialized(type);
        }
        opening.run();
        for (Class<?> type : new Class<?>[] {KernelClock.class, Tracefs.class, RingBufferReader.class}) {
          lookup.ensureInitialized(type);
        }
        TlsLibraries.analyzeSystemLibraries();
      } catch (IllegalAccessException | RuntimeException | Error e) {
        // reported by the load, which does the same
      }
    };
  }

  /** The object opened ahead, or one opened now (where an open that failed ahead fails again, reported). */
  private static BpfObject openedAheadOrNow() {
    FutureTask<BpfObject> opening = OPENED_AHEAD.getAndSet(null);
    if (opening != null) {
      opening.run(); // here, unless the preparing thread has begun it
      try {
        return opening.get();
      } catch (ExecutionException e) {
        // opened again below, which reports why
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while the capture object was opened", e);
      }
    }
    return BpfObject.openResource(SocketCapture.class, OBJECT);
  }

  /** An object opened ahead that no load took (a second preparation) is closed. */
  private static void closeUnused(FutureTask<BpfObject> opening) {
    if (opening != null && !opening.cancel(false) && opening.state() == Future.State.SUCCESS) {
      opening.resultNow().close();
    }
  }

  /**
   * Loads the capture programs of the configured backend into the kernel without attaching them.
   * With the backend {@code auto}, a kernel whose socket tracepoints refuse to load gets the
   * syscall ones.
   */
  public static SocketCapture load(CaptureConfig config) {
    Tracefs.ensureMounted();
    CaptureBackend backend = config.backend().resolve();
    try {
      return load(config, backend);
    } catch (BpfException e) {
      if (config.backend() != CaptureBackend.AUTO || backend != CaptureBackend.SOCKET) {
        throw e;
      }
      System.getLogger(SocketCapture.class.getName()).log(System.Logger.Level.WARNING,
          "socket tracepoints would not load ({0}); capturing on syscall tracepoints", e.summary());
      return load(config, CaptureBackend.SYSCALL);
    }
  }

  private static SocketCapture load(CaptureConfig config, CaptureBackend backend) {
    int cpus = Libbpf.numPossibleCpus();
    BpfObject object = openedAheadOrNow();
    try {
      configure(object, config, cpus, backend);
      // only the chosen backend's programs load: the other's may not exist in this kernel
      CaptureSource source = backend.source();
      for (BpfProgram program : object.programs()) {
        program.setAutoload(source.owns(program.section()) || TlsLibraries.loadsWith(program, backend));
      }
      object.load();
      return new SocketCapture(object, config, backend, cpus);
    } catch (RuntimeException | Error e) {
      object.close();
      throw e;
    }
  }

  /**
   * Lets the socket or syscall programs capture (once all are attached), or, for tests, stops them
   * (armed in maps.h).
   */
  synchronized void arm(boolean capturing) {
    Armed.set(object, Armed.CAPTURE, capturing ? 1 : 0);
  }

  /** The backend this capture runs on (never {@code auto}). */
  public CaptureBackend backend() {
    return backend;
  }

  /** Attaches the programs and starts reading, handing events to {@code handler}. Once. */
  public synchronized void start(SocketEventHandler handler) {
    if (reader != null || closed) {
      throw new IllegalStateException("capture already started or closed");
    }
    try {
      attach(backend.source());
      arm(true);
      tls = new TlsLibraries(object, java.nio.file.Path.of("/proc"), config.agentPid(), backend);
      tls.attachSystemLibraries();
      tls.scan();
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
              config.pollInterval(),
              config.catchUpNice());
    } catch (RuntimeException | Error e) {
      if (tls != null) {
        tls.close();
      }
      closeAll(detachAll(), e);
      throw e;
    }
  }

  /** Attaches a capture source's programs (once; again after a detach). Any thread. */
  public synchronized void attach(CaptureSource source) {
    if (closed) {
      throw new IllegalStateException("capture closed");
    }
    if (!sources.containsKey(source)) {
      sources.put(source, source.attach(object));
    }
  }

  /** Detaches a capture source's programs; its connections go on through the other sources. */
  public synchronized void detach(CaptureSource source) {
    List<BpfLink> links = sources.remove(source);
    if (links != null) {
      closeAll(links, null);
    }
  }

  /** The sources attached now. */
  public synchronized List<CaptureSource> sources() {
    return List.copyOf(sources.keySet());
  }

  private List<BpfLink> detachAll() {
    List<BpfLink> all = new ArrayList<>();
    sources.values().forEach(all::addAll);
    sources.clear();
    return all;
  }

  /** The TLS library uprobes (empty before start). */
  public synchronized Optional<TlsLibraries> tls() {
    return Optional.ofNullable(tls);
  }

  /** The kernel's connection table. */
  public ConnectionTable connections() {
    return this;
  }

  @Override
  public Optional<KernelConnection> find(long connectionKey, long connectionId) {
    var layout = EventLayouts.CONN_INFO;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment key = arena.allocate(JAVA_LONG);
      key.set(JAVA_LONG, 0, connectionKey);
      MemorySegment value = arena.allocate(layout);
      if (!connInfo.lookup(key, value)
          || value.get(JAVA_LONG, EventLayouts.offset(layout, "id")) != connectionId
          || value.get(JAVA_BYTE, EventLayouts.offset(layout, "state")) != CONN_TRACED) {
        return Optional.empty();
      }
      int family = Short.toUnsignedInt(value.get(JAVA_SHORT, EventLayouts.offset(layout, "family")));
      long position = EventLayouts.offset(layout, "position");
      return Optional.of(new KernelConnection(
          connectionId,
          EventDecoder.address(value, family, EventLayouts.offset(layout, "local_addr"), EventLayouts.offset(layout, "local_port")),
          EventDecoder.address(value, family, EventLayouts.offset(layout, "remote_addr"), EventLayouts.offset(layout, "remote_port")),
          Role.of(value.get(JAVA_BYTE, EventLayouts.offset(layout, "role"))),
          value.get(JAVA_LONG, position),
          value.get(JAVA_LONG, position + 8),
          value.get(JAVA_LONG, EventLayouts.offset(layout, "tls_position")),
          value.get(JAVA_LONG, EventLayouts.offset(layout, "tls_position") + 8),
          value.get(JAVA_LONG, EventLayouts.offset(layout, "ino")),
          (value.get(JAVA_BYTE, EventLayouts.offset(layout, "flags")) & EventLayouts.OPEN_FLAG_JOINED) != 0));
    } catch (EventDecoder.MalformedEventException e) {
      return Optional.empty();
    } catch (BpfObject.ClosedException e) {
      return Optional.empty(); // a handler still draining after close (see close)
    }
  }

  @Override
  public void skipUntil(long connectionKey, long connectionId, Direction direction, long position) {
    // not under the capture's lock: the reader's last drain runs inside close(); the scratch is
    // the reader thread's, its lock for any other caller and for close, which frees it
    synchronized (hintKey) {
      if (object.isClosed()) {
        return; // a handler still draining after close
      }
      hint(connectionKey, connectionId, direction, position);
    }
  }

  private void hint(long connectionKey, long connectionId, Direction direction, long position) {
    hintKey.set(JAVA_LONG, 0, connectionKey);
    hintKey.set(JAVA_INT, 8, direction == Direction.EGRESS ? 0 : 1);
    hintKey.set(JAVA_INT, 12, 0);
    hintValue.set(JAVA_LONG, 0, connectionId);
    hintValue.set(JAVA_LONG, 8, position);
    try {
      skipHints.update(hintKey, hintValue);
    } catch (BpfException e) {
      hintFailures.incrementAndGet(); // a hint only: the bytes are then copied as before
    } catch (BpfObject.ClosedException e) {
      // closed since the check: nothing is copied any more
    }
  }

  @Override
  public void forget(long connectionKey, long connectionId) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment key = arena.allocate(JAVA_LONG);
      key.set(JAVA_LONG, 0, connectionKey);
      MemorySegment value = arena.allocate(EventLayouts.CONN_INFO);
      // a new socket may have taken the fd since: only that connection's entry goes
      if (connInfo.lookup(key, value) && value.get(JAVA_LONG, 0) == connectionId) {
        connInfo.delete(key);
      }
    } catch (BpfObject.ClosedException e) {
      // a handler still draining after close: the table is gone
    }
  }

  /**
   * Deletes the kernel's entries of processes that no longer exist (exits whose event was lost,
   * connections never traced); returns how many went. Any thread.
   */
  public int sweepExitedProcesses(java.util.function.IntPredicate alive) {
    List<Long> dead = new ArrayList<>();
    java.util.Map<Integer, Boolean> checked = new java.util.HashMap<>();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment key = arena.allocate(JAVA_LONG);
      MemorySegment next = arena.allocate(JAVA_LONG);
      boolean more = connInfo.nextKey(null, next);
      // bounded by the map's size, whatever changes under the walk
      for (int i = 0; more && i < CaptureConfig.MAX_CONNECTIONS; i++) {
        long k = next.get(JAVA_LONG, 0);
        // the syscall capture keys by tgid; the socket capture's entries name their process once traced
        int tgid = backend == CaptureBackend.SYSCALL ? (int) (k >>> 32) : tgidOf(k);
        if (tgid > 0 && !checked.computeIfAbsent(tgid, alive::test)) {
          dead.add(k);
        }
        key.set(JAVA_LONG, 0, k);
        more = connInfo.nextKey(key, next);
      }
      for (long k : dead) {
        key.set(JAVA_LONG, 0, k);
        connInfo.delete(key);
      }
    } catch (BpfObject.ClosedException e) {
      return 0; // closed under the sweep: the table is gone
    }
    return dead.size();
  }

  /** The process an entry was traced in, or 0. */
  private int tgidOf(long connectionKey) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment key = arena.allocate(JAVA_LONG);
      key.set(JAVA_LONG, 0, connectionKey);
      MemorySegment value = arena.allocate(EventLayouts.CONN_INFO);
      return connInfo.lookup(key, value) ? value.get(JAVA_INT, EventLayouts.offset(EventLayouts.CONN_INFO, "tgid")) : 0;
    }
  }

  /** Whether the kernel has an entry for {@code pid}'s {@code fd}, traced or not (tests). */
  boolean hasEntry(int pid, int fd) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment key = arena.allocate(JAVA_LONG);
      key.set(JAVA_LONG, 0, (long) pid << 32 | (fd & 0xffffffffL));
      return connInfo.lookup(key, arena.allocate(EventLayouts.CONN_INFO));
    }
  }

  /**
   * Each of this capture's maps with the memory the kernel charges it ({@code memlock} in the map
   * fd's fdinfo: for a preallocated hash its whole capacity, for the ring its data pages), by map
   * name, or -1 where fdinfo does not say. Tests and diagnostics.
   */
  java.util.Map<String, Long> mapMemory() {
    java.util.Map<String, Long> bytes = new java.util.TreeMap<>();
    for (BpfMap map : object.maps()) {
      long memlock = -1;
      try {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/fdinfo/" + map.fd()))) {
          if (line.startsWith("memlock:")) {
            memlock = Long.parseLong(line.substring("memlock:".length()).strip());
          }
        }
      } catch (java.io.IOException | NumberFormatException e) {
        memlock = -1;
      }
      bytes.put(map.name(), memlock);
    }
    return bytes;
  }

  /** The entries the map {@code name} was created with (tests). */
  int mapMaxEntries(String name) {
    return object.map(name).maxEntries();
  }

  /** Threads of {@code pid} with syscall arguments stashed in the kernel (tests, diagnostics). */
  int stashedThreads(int pid) {
    int count = 0;
    for (String name : List.of("active_reads", "active_writes")) {
      BpfMap map = object.map(name);
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment key = arena.allocate(JAVA_LONG);
        MemorySegment next = arena.allocate(JAVA_LONG);
        boolean more = map.nextKey(null, next);
        for (int i = 0; more && i < CaptureConfig.MAX_STASH_ENTRIES; i++) {
          if ((int) (next.get(JAVA_LONG, 0) >>> 32) == pid) {
            count++;
          }
          key.copyFrom(next);
          more = map.nextKey(key, next);
        }
      }
    }
    return count;
  }

  /**
   * Entries for the syscall argument maps: four per thread the host runs now, a power of two
   * within [{@value CaptureConfig#MIN_STASH_ENTRIES}, {@value CaptureConfig#MAX_STASH_ENTRIES}].
   */
  static int stashEntries(int threads) {
    int wanted = Integer.highestOneBit(Math.max(1, threads * 4 - 1)) << 1;
    return Math.clamp(wanted, CaptureConfig.MIN_STASH_ENTRIES, CaptureConfig.MAX_STASH_ENTRIES);
  }

  /** Threads on the host now, from /proc/loadavg ("0.00 0.01 0.05 1/123 4567"), or 0. */
  static int hostThreads() {
    try {
      String[] fields = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ");
      return Integer.parseInt(fields[3].substring(fields[3].indexOf('/') + 1));
    } catch (java.io.IOException | RuntimeException e) {
      return 0;
    }
  }

  /**
   * The tracepoints a backend's programs attach to, e.g. {@code syscalls/sys_enter_read} or
   * {@code sock/sock_send_length}; no kernel needed.
   */
  public static List<String> tracepoints(CaptureBackend backend) {
    CaptureSource source = backend.source();
    try (BpfObject object = BpfObject.openResource(SocketCapture.class, OBJECT)) {
      return object.programs().stream()
          .map(BpfProgram::section)
          .filter(source::owns)
          .map(section -> section.startsWith("tp_btf/")
              ? (section.startsWith("tp_btf/tcp_") ? "tcp/" : "sock/") + section.substring("tp_btf/".length())
              : section.substring("tracepoint/".length()))
          .toList();
    }
  }

  private static void configure(BpfObject object, CaptureConfig config, int cpus, CaptureBackend backend) {
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
      value.set(JAVA_INT, EventLayouts.offset(layout, "follow_http2"), config.followHttp2() ? 1 : 0);
      rodata.setInitialValue(value);
    }
    object.map("data_buffers").setMaxEntries(cpus);
    object.map("events").setMaxEntries(config.ringBufferBytes());
    // the syscall arguments stashed between a syscall's entry and exit: the socket programs read
    // them from the task's registers, so on that backend the maps hold nothing and keep one entry
    // (4.6 MiB of preallocated map memory less)
    boolean stashing = backend == CaptureBackend.SYSCALL;
    int stash = !stashing ? 1 : config.stashEntries() > 0 ? config.stashEntries() : stashEntries(hostThreads());
    object.map("active_reads").setMaxEntries(stash);
    object.map("active_writes").setMaxEntries(stash);
    if (!stashing) {
      object.map("active_connects").setMaxEntries(1);
    }
  }

  /** Counters summed over CPUs; any thread, also after close (the last values). */
  public CaptureStats stats() {
    synchronized (statsLock) {
      return finalStats != null ? finalStats : readStats();
    }
  }

  private CaptureStats readStats() {
    long lost = 0;
    long bytesLost = 0;
    long untracked = 0;
    long stashFull = 0;
    long stale = 0;
    long tlsBytes = 0;
    long sizeOnly = 0;
    long skippedBytes = 0;
    long tlsUnattributed = 0;
    long tlsCalls = 0;
    long pressureCut = 0;
    long http2DataUncopied = 0;
    long http2WalksLost = 0;
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
          stashFull += values.get(JAVA_LONG, base + EventLayouts.offset(layout, "stash_full"));
          stale += values.get(JAVA_LONG, base + EventLayouts.offset(layout, "stale_conns"));
          tlsBytes += values.get(JAVA_LONG, base + EventLayouts.offset(layout, "tls_bytes"));
          sizeOnly += values.get(JAVA_LONG, base + EventLayouts.offset(layout, "size_only"));
          skippedBytes += values.get(JAVA_LONG, base + EventLayouts.offset(layout, "skipped_bytes"));
          tlsUnattributed += values.get(JAVA_LONG, base + EventLayouts.offset(layout, "tls_unattributed"));
          tlsCalls += values.get(JAVA_LONG, base + EventLayouts.offset(layout, "tls_calls"));
          pressureCut += values.get(JAVA_LONG, base + EventLayouts.offset(layout, "pressure_cut"));
          http2DataUncopied += values.get(JAVA_LONG, base + EventLayouts.offset(layout, "h2_data_uncopied"));
          http2WalksLost += values.get(JAVA_LONG, base + EventLayouts.offset(layout, "h2_walks_lost"));
        }
      }
    }
    RingBufferReader r = reader; // read once: the reader thread asks too
    return new CaptureStats(
        r == null ? 0 : r.records(), lost, bytesLost, untracked, malformed.get(),
        r == null ? 0 : r.handlerFailures(), stashFull, stale, tlsBytes, sizeOnly, skippedBytes, tlsUnattributed, tlsCalls,
        pressureCut, http2DataUncopied, http2WalksLost, r == null ? 0 : r.catchUps());
  }

  /** Ring buffer records that wrapped past the end of its data area; for tests. */
  long wrappedRecords() {
    return reader == null ? 0 : reader.wrapped();
  }

  /** Whether the reader still runs; a ring buffer error stops it (see {@link #failure}). */
  public boolean isRunning() {
    return reader != null && reader.isRunning();
  }

  /** The error that stopped the reader, or null. */
  public BpfException failure() {
    return reader == null ? null : reader.failure();
  }

  /** Where each program is attached. */
  public synchronized List<String> attachments() {
    return sources.values().stream().flatMap(List::stream).map(BpfLink::target).toList();
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
      if (tls != null) {
        tls.close();
      }
      closeAll(detachAll(), null);
    } catch (RuntimeException e) {
      failure = e;
    }
    if (reader != null) {
      reader.close();
    }
    synchronized (statsLock) {
      finalStats = readStats();
    }
    // waits for map calls under way (a handler still draining when the reader stopped waiting for
    // it); those after it find the table closed
    object.close();
    synchronized (hintKey) {
      hintArena.close();
    }
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
    return "SocketCapture{" + OBJECT + ", " + sources.keySet() + ", " + (reader == null ? "not reading" : reader) + "}";
  }
}
