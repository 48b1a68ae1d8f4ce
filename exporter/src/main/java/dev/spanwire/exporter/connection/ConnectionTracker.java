package dev.spanwire.exporter.connection;

import dev.spanwire.bpf.ConnectionClosed;
import dev.spanwire.bpf.ConnectionOpened;
import dev.spanwire.bpf.ConnectionTable;
import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.KernelConnection;
import dev.spanwire.bpf.ProcessExecuted;
import dev.spanwire.bpf.ProcessExited;
import dev.spanwire.bpf.SocketEvent;
import dev.spanwire.bpf.SocketEventHandler;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.counters.Counters;
import dev.spanwire.exporter.protocol.BodyBudget;
import dev.spanwire.exporter.protocol.Protocol;
import dev.spanwire.exporter.protocol.ProtocolSettings;
import dev.spanwire.exporter.protocol.ProtocolStats;
import dev.spanwire.exporter.protocol.Protocols;
import dev.spanwire.exporter.trace.SpanIdentities;
import dev.spanwire.semconv.AgentMetric;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The connection stage: socket events in, exchanges out. It keeps the table of traced
 * connections (opened, closed, re-established from the kernel's table, closed by a process's exit
 * or exec, evicted when idle or past the bound), decides what each connection speaks from its
 * first bytes (the port list, AppScope's detection regex, then the registered {@link Protocols}),
 * and hands each one's assembled streams to its protocol session. Runs on the capture's ring
 * buffer thread, which owns all its state; memory is bounded by the table's size, the idle timeout
 * and the per-connection bounds in {@link PipelineSettings}.
 */
public final class ConnectionTracker implements SocketEventHandler {
  private static final long SWEEP_INTERVAL_NANOS = 10_000_000_000L;
  private static final long PROCESS_SWEEP_INTERVAL_NANOS = 60_000_000_000L;
  /**
   * After the kernel lost events, connections silent this long are looked up in its table once
   * per interval, for as many intervals after the last loss: a connection the kernel no longer has
   * closed among the losses, and would otherwise wait for the idle timeout with what it holds.
   */
  static final long CLOSE_CHECK_INTERVAL_NANOS = 1_000_000_000L;
  static final int CLOSE_CHECK_ROUNDS = 3;
  /** Kernel lookups per check, the least recently active connections first. */
  static final int MAX_CLOSE_CHECKS = 4096;

  private final ExchangeSink sink;
  private final PipelineSettings settings;
  private final ProcessRegistry processes;
  private final LongSupplier monotonicClock;
  private final ConnectionTable kernelTable;
  /** The agent's counters: the kernel's lost events are read from them. */
  private final Counters counters;
  private final Protocols protocols;
  private final SpanIdentities identities;
  private final ProtocolSettings protocolSettings;
  private final ConnectionStats stats;
  private final ProtocolStats protocolStats;
  private final PipelineStats view;
  /** The connections of each process, for its exit and exec. */
  private final Map<Integer, Set<Long>> byPid = new HashMap<>();
  /** Access-ordered: the eldest entry is the least recently active connection. */
  private final LinkedHashMap<Long, Connection> connections = new LinkedHashMap<>(256, 0.75f, true);
  private final List<Connection> withPending = new ArrayList<>();
  /** Connections left out (command filter, not detected): their events are dropped quietly. */
  private final LinkedHashMap<Long, Boolean> ignored;
  /**
   * Where the streams of connections dropped without a close (idle, over the table bound) stood,
   * as many as the table holds connections: picked up again, they go on from there.
   */
  private final LinkedHashMap<Long, long[]> leftAt;
  private final TracedConnections traced;
  private long nextSweepNanos;
  private long nextCloseCheckNanos;
  private long lostAtCloseCheck;
  private int closeChecksLeft;
  /** When the reader last finished a batch (System.nanoTime; read by other threads). */
  private volatile long lastBatchNanos = System.nanoTime();

  /** Whether the reader has finished a batch within {@code nanos} (it does at least every poll interval). */
  public boolean batchedWithin(long nanos) {
    return System.nanoTime() - lastBatchNanos < nanos;
  }

  /** Connections tracked, as of the end of the last batch (read by other threads). */
  private volatile int connectionCount;
  private volatile int processCount;
  private long nextProcessSweepNanos;

  ConnectionTracker(
      ExchangeSink sink, PipelineSettings settings, ProcessRegistry processes, LongSupplier monotonicClock) {
    this(sink, settings, processes, monotonicClock, ConnectionTable.NONE);
  }

  ConnectionTracker(
      ExchangeSink sink, PipelineSettings settings, ProcessRegistry processes, LongSupplier monotonicClock,
      ConnectionTable kernelTable) {
    this(sink, settings, processes, monotonicClock, kernelTable, new Counters(), Protocols.registered());
  }

  /**
   * @param counters the registry its counters go to (and its connection gauge)
   * @param protocols what connections may speak
   */
  ConnectionTracker(
      ExchangeSink sink, PipelineSettings settings, ProcessRegistry processes, LongSupplier monotonicClock,
      ConnectionTable kernelTable, Counters counters, Protocols protocols) {
    this(sink, settings, processes, monotonicClock, kernelTable, counters, protocols, BodyBudget.ofHeap());
  }

  /** @param bodies the heap the body prefixes under capture may hold together */
  ConnectionTracker(
      ExchangeSink sink, PipelineSettings settings, ProcessRegistry processes, LongSupplier monotonicClock,
      ConnectionTable kernelTable, Counters counters, Protocols protocols, BodyBudget bodies) {
    this.kernelTable = kernelTable;
    this.counters = counters;
    this.protocols = protocols;
    this.protocolSettings = settings.protocol(bodies);
    this.stats = new ConnectionStats(counters);
    this.protocolStats = new ProtocolStats(counters);
    this.view = new PipelineStats(counters);
    this.identities = new SpanIdentities(
        new java.util.SplittableRandom(), counters, settings.traces(), monotonicClock, sink::onExchange);
    counters.register(AgentMetric.CONNECTIONS, () -> connectionCount);
    counters.register(AgentMetric.PROCESSES, () -> processCount);
    this.sink = sink;
    this.settings = settings;
    this.processes = processes;
    this.monotonicClock = monotonicClock;
    this.traced = settings.traced();
    int maxIgnored = settings.maxConnections();
    this.ignored = new LinkedHashMap<>(64, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(java.util.Map.Entry<Long, Boolean> eldest) {
        return size() > maxIgnored;
      }
    };
    this.leftAt = new LinkedHashMap<>(64, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(java.util.Map.Entry<Long, long[]> eldest) {
        return size() > maxIgnored;
      }
    };
  }

  /** A pipeline reading process information from /proc, timed by the kernel's clock. */
  public ConnectionTracker(ExchangeSink sink, PipelineSettings settings) {
    this(sink, settings, ConnectionTable.NONE);
  }

  /**
   * The same, reading back from the capture's connection table the connections it loses track
   * of (an open event it never got, a connection it dropped).
   */
  public ConnectionTracker(ExchangeSink sink, PipelineSettings settings, ConnectionTable kernelTable) {
    this(sink, settings, kernelTable, new Counters());
  }

  /** The same, counting into the agent's registry. */
  public ConnectionTracker(ExchangeSink sink, PipelineSettings settings, ConnectionTable kernelTable, Counters counters) {
    this(sink, settings, new ProcessRegistry(Path.of("/proc"), settings.redaction()),
        dev.spanwire.bpf.KernelClock::monotonicNanos, kernelTable, counters, Protocols.registered());
  }

  /** The same with other protocols than the registered ones (tests of the protocol seam). */
  public ConnectionTracker(
      ExchangeSink sink, PipelineSettings settings, ConnectionTable kernelTable, Counters counters, Protocols protocols) {
    this(sink, settings, new ProcessRegistry(Path.of("/proc"), settings.redaction()),
        dev.spanwire.bpf.KernelClock::monotonicNanos, kernelTable, counters, protocols);
  }

  /** What it counted, by name (the registry holds the values). */
  public PipelineStats stats() {
    return view;
  }

  @Override
  public void onEvent(SocketEvent event) {
    switch (event) {
      case DataCaptured data -> {
        Connection connection = connections.get(data.connectionId());
        if (connection == null) {
          if (ignored.containsKey(data.connectionId())) {
            return;
          }
          connection = reestablish(data);
          if (connection == null) {
            stats.unknownConnection.increment();
            return;
          }
        }
        if (data.tls() && !connection.tls()) {
          connection.startTls();
        }
        if (!connection.decided) {
          byte[] start = connection.startWith(data);
          if (connection.mayHold(data) && waitsForMore(start, data.direction())) {
            connection.holdStart(data); // a start written a few bytes at a time: wait for enough to tell
            return;
          }
          if (!decide(connection, data, start)) {
            return;
          }
          for (DataCaptured held : connection.takeHeldStart()) {
            connection.onData(held);
          }
        }
        connection.onData(data);
        if (connection.hasPending()) {
          withPending.add(connection);
        }
      }
      case ConnectionOpened opened -> open(opened);
      case ConnectionClosed closed -> {
        Connection connection = remove(closed.connectionId());
        if (connection == null) {
          leftAt.remove(closed.connectionId());
          if (ignored.remove(closed.connectionId()) == null) {
            stats.unknownConnection.increment();
          }
          return;
        }
        connection.close(closed.timestampNanos(), closed.bytesEgress(), closed.bytesIngress(),
            closed.tlsBytesEgress(), closed.tlsBytesIngress());
      }
      case ProcessExited exited -> exited(exited.pid(), exited.timestampNanos());
      case ProcessExecuted executed -> executed(executed.pid(), executed.timestampNanos());
    }
  }

  private void open(ConnectionOpened opened) {
    if (connections.containsKey(opened.connectionId())) {
      return; // two threads decided the same connection at once
    }
    ProcessInfo process =
        processes.get(
            opened.pid(), opened.comm(), opened.commandLine(), opened.uid(), opened.gid(), opened.timestampNanos());
    if (!traced.followsProcess(process.comm())) {
      ignore(opened.connectionId());
      return;
    }
    ConnectionInfo info =
        new ConnectionInfo(opened.connectionId(), opened.local(), opened.remote(), opened.role(), process);
    if (opened.tls()) {
      info = info.withTls();
    }
    Connection connection = new Connection(info, stats, protocolStats, protocolSettings, protocols, identities, sink, opened.joinedMidStream());
    connection.cipherOnly = opened.tls();
    connection.openedNanos = opened.timestampNanos();
    connection.fd = opened.fd();
    connection.ino = opened.ino();
    connection.key = opened.key();
    connection.lastActivityNanos = opened.timestampNanos();
    put(connection, process.pid());
  }

  /**
   * Data of a connection the pipeline does not know: its open event was lost, or the pipeline
   * dropped it (idle, table bound). The kernel's table still has it: pick it up in the middle.
   */
  private Connection reestablish(DataCaptured data) {
    Optional<KernelConnection> entry = kernelTable.find(data.key(), data.connectionId());
    if (entry.isEmpty()) {
      return null;
    }
    KernelConnection k = entry.get();
    ProcessInfo process = processes.get(data.pid(), "?", "", -1, -1, data.timestampNanos());
    if (!traced.followsProcess(process.comm())) {
      ignore(data.connectionId());
      return null;
    }
    Connection connection = new Connection(new ConnectionInfo(k.id(), k.local(), k.remote(), k.role(), process),
        stats, protocolStats, protocolSettings, protocols, identities, sink, true);
    long[] positions = leftAt.remove(k.id());
    if (positions != null) {
      // the pipeline dropped it (idle, table bound): its streams go on where they stood
      connection.resumeAt(positions);
    } else if (k.joinedMidStream()) {
      // the kernel itself met it late: where its streams start for us is where we first see them
      connection.joinedInTheMiddle();
    }
    // otherwise its open event was lost, and the kernel counted both streams from the connect or
    // accept: what lies before this event's position is a gap in its direction, and the other
    // direction's first event says its own. Starting each direction at its first event instead
    // made a request seen before the loss and an answer seen after it look adjacent, and paired
    // them (found with a 4 KiB ring buffer under wrk)
    connection.fd = data.fd();
    connection.ino = k.ino();
    connection.key = data.key();
    connection.lastActivityNanos = data.timestampNanos();
    put(connection, data.pid());
    stats.reestablished.increment();
    return connection;
  }

  private void put(Connection connection, int pid) {
    connection.kernelTable = kernelTable;
    connections.put(connection.info().id(), connection);
    byPid.computeIfAbsent(pid, p -> new HashSet<>()).add(connection.info().id());
    if (connections.size() > settings.maxConnections()) {
      Iterator<Connection> eldest = connections.values().iterator();
      Connection evicted = eldest.next();
      eldest.remove();
      unindex(evicted);
      leftAt.put(evicted.info().id(), evicted.positions());
      evicted.evict();
      stats.evictedConnections.increment();
    }
  }

  private Connection remove(long connectionId) {
    Connection connection = connections.remove(connectionId);
    if (connection != null) {
      unindex(connection);
    }
    return connection;
  }

  private void unindex(Connection connection) {
    int pid = connection.info().process().pid();
    Set<Long> ids = byPid.get(pid);
    if (ids != null && ids.remove(connection.info().id()) && ids.isEmpty()) {
      byPid.remove(pid);
    }
  }

  /** A traced process ended: its connections close, with the kernel's byte totals when it has them. */
  private void exited(int pid, long timestampNanos) {
    processes.forget(pid); // the pid may come back as another process
    Set<Long> ids = byPid.remove(pid);
    if (ids == null) {
      return;
    }
    stats.processExits.increment();
    for (long id : ids) {
      Connection connection = connections.remove(id);
      if (connection != null) {
        closeFromKernel(connection, pid, timestampNanos);
        // the socket capture still reports the socket's end, after the exit: not an unknown one
        ignore(id);
      }
    }
  }

  /**
   * A traced process ran another program: what was read of it is stale, and the sockets that were
   * close-on-exec are gone (their fds no longer name them).
   */
  private void executed(int pid, long timestampNanos) {
    processes.forget(pid);
    processes.prefetch(pid, timestampNanos);
    Set<Long> ids = byPid.get(pid);
    if (ids == null) {
      return;
    }
    ProcessInfo fresh = null;
    for (long id : List.copyOf(ids)) {
      Connection connection = connections.get(id);
      if (connection == null) {
        continue;
      }
      if (processes.holdsSocket(pid, connection.fd, connection.ino)) {
        if (fresh == null) {
          ProcessInfo old = connection.info().process();
          fresh = processes.get(pid, old.comm(), "", old.uid(), old.gid(), timestampNanos);
        }
        connection.processChanged(fresh);
      } else {
        remove(id);
        closeFromKernel(connection, pid, timestampNanos);
      }
    }
  }

  /** Closes a connection whose close event will not come, and drops its kernel entry. */
  private void closeFromKernel(Connection connection, int pid, long timestampNanos) {
    long id = connection.info().id();
    Optional<KernelConnection> entry = kernelTable.find(connection.key, id);
    if (entry.isPresent()) {
      KernelConnection k = entry.get();
      connection.close(timestampNanos, k.bytesEgress(), k.bytesIngress(), k.tlsBytesEgress(), k.tlsBytesIngress());
      kernelTable.forget(connection.key, id);
    } else {
      connection.close(timestampNanos);
    }
  }

  /**
   * What a connection speaks, on its first payload: a connection on a listed port is traced
   * whatever its bytes, one elsewhere when the detection regex finds a match in them (AppScope's
   * protocol detection); then the first registered protocol that recognises the bytes takes it
   * (the last one takes a listed port's connection nothing recognises). A payload without bytes
   * (sendfile) cannot tell: it goes through, keeping the stream whole, and the next payload with
   * bytes decides. {@code start} is the payload, after the bytes of its direction held while too
   * few to tell.
   */
  private boolean decide(Connection connection, DataCaptured data, byte[] start) {
    ConnectionInfo info = connection.info();
    boolean listed = traced.onListedPort(info.local().getPort(), info.remote().getPort());
    if (start.length == 0) {
      connection.decided = listed;
      if (!connection.speaks()) {
        connection.speak(protocols.fallback());
      }
      return true;
    }
    // AppScope's regex finds text; a binary protocol's start (an HTTP/2 server's SETTINGS, a HEADERS
    // frame of a connection met late) is known to the registered protocol that parses it
    Protocol detected = protocols.detect(start, data.direction());
    boolean matches = (!listed || traced.detectEvents())
        && (traced.detects(start) || (detected != null && detected != protocols.fallback()));
    if (!listed && !matches) {
      remove(info.id());
      ignore(info.id());
      return false;
    }
    connection.decided = true;
    if (!connection.speaks()) {
      connection.speak(detected == null ? protocols.fallback() : detected);
    }
    if (matches) {
      stats.detected.increment();
      if (traced.detectEvents()) {
        sink.onDetected(info, data.fd(), data.timestampNanos());
      }
    }
    return true;
  }

  /**
   * Whether a connection's first bytes are too few to decide on yet: a protocol may still begin
   * with them, or HTTP/1's start line is under way without the version AppScope's regex looks for.
   * Decided at the first line's end or {@link Connection#MAX_HELD_START} bytes whatever they say.
   */
  private boolean waitsForMore(byte[] start, Direction direction) {
    if (start.length == 0 || start.length >= Connection.MAX_HELD_START) {
      return false;
    }
    for (byte b : start) {
      if (b == '\n') {
        return false; // a whole first line: decide() judges it (the usual first payload, one regex run)
      }
    }
    if (traced.detects(start)) {
      return false;
    }
    Protocol detected = protocols.detect(start, direction);
    return detected == null ? protocols.waitsForMore(start, direction) : detected == protocols.fallback();
  }

  /** The span identities (linking), for tests of their bounds. */
  SpanIdentities identities() {
    return identities;
  }

  private void ignore(long connectionId) {
    ignored.put(connectionId, Boolean.TRUE);
    stats.ignoredConnections.increment();
  }

  @Override
  public void afterBatch() {
    lastBatchNanos = System.nanoTime();
    for (Connection connection : withPending) {
      connection.flush();
    }
    withPending.clear();
    identities.expire();
    long now = monotonicClock.getAsLong();
    if (now >= nextSweepNanos) {
      nextSweepNanos = now + SWEEP_INTERVAL_NANOS;
      evictIdle(now - settings.idleTimeout().toNanos());
    }
    if (now >= nextCloseCheckNanos) {
      nextCloseCheckNanos = now + CLOSE_CHECK_INTERVAL_NANOS;
      checkClosesLost(now - CLOSE_CHECK_INTERVAL_NANOS);
    }
    if (now >= nextProcessSweepNanos) {
      nextProcessSweepNanos = now + PROCESS_SWEEP_INTERVAL_NANOS;
      processes.sweep();
    }
    connectionCount = connections.size();
    processCount = processes.size();
  }

  /**
   * A close event lost in the ring buffer left its connection here, holding its parsers and the
   * requests it waited on until the idle timeout: under heavy loss (2,000 new connections a
   * second, half their events lost) they filled the heap in a minute. While the kernel loses
   * events, and for {@link #CLOSE_CHECK_ROUNDS} checks after, connections silent since
   * {@code silentSince} are looked up in its table; those it no longer has are closed (what they
   * had under way reported as truncated, their waiting requests as unanswered) and counted.
   */
  private void checkClosesLost(long silentSince) {
    if (kernelTable == ConnectionTable.NONE) {
      return;
    }
    long lost = counters.get(AgentMetric.EVENTS_LOST);
    if (lost != lostAtCloseCheck) {
      lostAtCloseCheck = lost;
      closeChecksLeft = CLOSE_CHECK_ROUNDS;
    }
    if (closeChecksLeft == 0) {
      return;
    }
    closeChecksLeft--;
    int checked = 0;
    List<Connection> gone = new ArrayList<>();
    for (Connection connection : connections.values()) {
      if (connection.lastActivityNanos >= silentSince || checked++ == MAX_CLOSE_CHECKS) {
        break; // the rest were active more recently
      }
      if (kernelTable.find(connection.key, connection.info().id()).isEmpty()) {
        gone.add(connection);
      }
    }
    for (Connection connection : gone) {
      remove(connection.info().id());
      connection.close(connection.lastActivityNanos);
      stats.closesRecovered.increment();
    }
  }

  private void evictIdle(long silentSince) {
    for (Iterator<Connection> it = connections.values().iterator(); it.hasNext(); ) {
      Connection connection = it.next();
      if (connection.lastActivityNanos >= silentSince) {
        break; // the rest were active more recently
      }
      it.remove();
      unindex(connection);
      leftAt.put(connection.info().id(), connection.positions());
      connection.evict();
      stats.evictedConnections.increment();
    }
  }

  /**
   * At shutdown, once no event can arrive: every connection reports what it has under way
   * (truncated) and the requests still waiting (without an answer, counted as unanswered).
   */
  public void closeAll() {
    for (Connection connection : connections.values()) {
      connection.stop();
    }
    identities.releaseAll();
    connections.clear();
    byPid.clear();
    ignored.clear();
    connectionCount = 0;
  }

  @Override
  public String toString() {
    return "ConnectionTracker{" + connections.size() + " connections, " + settings + "}";
  }
}
