package dev.spanwire.exporter.pipeline;

import dev.spanwire.bpf.ConnectionClosed;
import dev.spanwire.bpf.ConnectionOpened;
import dev.spanwire.bpf.ConnectionTable;
import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.KernelConnection;
import dev.spanwire.bpf.ProcessExecuted;
import dev.spanwire.bpf.ProcessExited;
import dev.spanwire.bpf.SocketEvent;
import dev.spanwire.bpf.SocketEventHandler;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.ProcessInfo;
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
 * Socket events in, HTTP exchanges out: the connection table and what hangs off it. Runs on the
 * capture's ring buffer thread, which owns all its state; memory is bounded by the connection
 * table's size, the idle timeout and the per-connection bounds in {@link PipelineSettings}.
 */
public final class HttpPipeline implements SocketEventHandler {
  private static final long SWEEP_INTERVAL_NANOS = 10_000_000_000L;
  private static final long PROCESS_SWEEP_INTERVAL_NANOS = 60_000_000_000L;

  private final ExchangeSink sink;
  private final PipelineSettings settings;
  private final ProcessRegistry processes;
  private final LongSupplier monotonicClock;
  private final ConnectionTable kernelTable;
  private final PipelineStats stats = new PipelineStats();
  /** The connections of each process, for its exit and exec. */
  private final Map<Integer, Set<Long>> byPid = new HashMap<>();
  /** Access-ordered: the eldest entry is the least recently active connection. */
  private final LinkedHashMap<Long, Connection> connections = new LinkedHashMap<>(256, 0.75f, true);
  private final List<Connection> withPending = new ArrayList<>();
  /** Connections left out (command filter, not detected): their events are dropped quietly. */
  private final LinkedHashMap<Long, Boolean> ignored;
  private final TracedConnections traced;
  private long nextSweepNanos;
  private long nextProcessSweepNanos;

  HttpPipeline(
      ExchangeSink sink, PipelineSettings settings, ProcessRegistry processes, LongSupplier monotonicClock) {
    this(sink, settings, processes, monotonicClock, ConnectionTable.NONE);
  }

  HttpPipeline(
      ExchangeSink sink, PipelineSettings settings, ProcessRegistry processes, LongSupplier monotonicClock,
      ConnectionTable kernelTable) {
    this.kernelTable = kernelTable;
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
  }

  /** A pipeline reading process information from /proc, timed by the kernel's clock. */
  public HttpPipeline(ExchangeSink sink, PipelineSettings settings) {
    this(sink, settings, ConnectionTable.NONE);
  }

  /**
   * The same, reading back from the capture's connection table the connections it loses track
   * of (an open event it never got, a connection it dropped).
   */
  public HttpPipeline(ExchangeSink sink, PipelineSettings settings, ConnectionTable kernelTable) {
    this(sink, settings, new ProcessRegistry(Path.of("/proc"), settings.redaction()),
        dev.spanwire.bpf.KernelClock::monotonicNanos, kernelTable);
  }

  public PipelineStats stats() {
    return stats;
  }

  @Override
  public void onEvent(SocketEvent event) {
    stats.events++;
    switch (event) {
      case DataCaptured data -> {
        Connection connection = connections.get(data.connectionId());
        if (connection == null) {
          if (ignored.containsKey(data.connectionId())) {
            return;
          }
          connection = reestablish(data);
          if (connection == null) {
            stats.unknownConnection++;
            return;
          }
        }
        if (!connection.decided && !decide(connection, data)) {
          return;
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
          if (ignored.remove(closed.connectionId()) == null) {
            stats.unknownConnection++;
          }
          return;
        }
        connection.close(closed.timestampNanos(), closed.bytesEgress(), closed.bytesIngress());
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
    Connection connection = new Connection(info, stats, sink, settings, opened.joinedMidStream());
    connection.fd = opened.fd();
    connection.ino = opened.ino();
    connection.lastActivityNanos = opened.timestampNanos();
    put(connection, process.pid());
  }

  /**
   * Data of a connection the pipeline does not know: its open event was lost, or the pipeline
   * dropped it (idle, table bound). The kernel's table still has it: pick it up in the middle.
   */
  private Connection reestablish(DataCaptured data) {
    Optional<KernelConnection> entry = kernelTable.find(data.pid(), data.fd(), data.connectionId());
    if (entry.isEmpty()) {
      return null;
    }
    KernelConnection k = entry.get();
    ProcessInfo process = processes.get(data.pid(), "?", "", -1, -1, data.timestampNanos());
    if (!traced.followsProcess(process.comm())) {
      ignore(data.connectionId());
      return null;
    }
    Connection connection = new Connection(
        new ConnectionInfo(k.id(), k.local(), k.remote(), k.role(), process), stats, sink, settings, true);
    connection.joinedInTheMiddle();
    connection.fd = data.fd();
    connection.ino = k.ino();
    connection.lastActivityNanos = data.timestampNanos();
    put(connection, data.pid());
    stats.reestablished++;
    return connection;
  }

  private void put(Connection connection, int pid) {
    connections.put(connection.info().id(), connection);
    byPid.computeIfAbsent(pid, p -> new HashSet<>()).add(connection.info().id());
    if (connections.size() > settings.maxConnections()) {
      Iterator<Connection> eldest = connections.values().iterator();
      Connection evicted = eldest.next();
      eldest.remove();
      unindex(evicted);
      evicted.evict();
      stats.evictedConnections++;
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
    stats.processExits++;
    for (long id : ids) {
      Connection connection = connections.remove(id);
      if (connection != null) {
        closeFromKernel(connection, pid, timestampNanos);
      }
    }
  }

  /**
   * A traced process ran another program: what was read of it is stale, and the sockets that were
   * close-on-exec are gone (their fds no longer name them).
   */
  private void executed(int pid, long timestampNanos) {
    processes.forget(pid);
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
    Optional<KernelConnection> entry = kernelTable.find(pid, connection.fd, id);
    if (entry.isPresent()) {
      connection.close(timestampNanos, entry.get().bytesEgress(), entry.get().bytesIngress());
      kernelTable.forget(pid, connection.fd, id);
    } else {
      connection.close(timestampNanos);
    }
  }

  /**
   * Whether a connection is HTTP, on its first payload: it is when it uses a listed port or when
   * the detection regex finds a match in the payload; otherwise it is left out. A payload without
   * bytes (sendfile) cannot tell: it goes through, keeping the stream whole, and the next payload
   * with bytes decides.
   */
  private boolean decide(Connection connection, DataCaptured data) {
    ConnectionInfo info = connection.info();
    boolean listed = traced.onListedPort(info.local().getPort(), info.remote().getPort());
    if (data.payload().length == 0) {
      connection.decided = listed;
      return true;
    }
    boolean matches = (!listed || traced.detectEvents()) && traced.detects(data.payload());
    if (!listed && !matches) {
      remove(info.id());
      ignore(info.id());
      return false;
    }
    connection.decided = true;
    if (matches) {
      stats.detected++;
      if (traced.detectEvents()) {
        sink.onDetected(info, data.fd(), data.timestampNanos());
      }
    }
    return true;
  }

  private void ignore(long connectionId) {
    ignored.put(connectionId, Boolean.TRUE);
    stats.ignoredConnections++;
  }

  @Override
  public void afterBatch() {
    for (Connection connection : withPending) {
      connection.flush();
    }
    withPending.clear();
    long now = monotonicClock.getAsLong();
    if (now >= nextSweepNanos) {
      nextSweepNanos = now + SWEEP_INTERVAL_NANOS;
      evictIdle(now - settings.idleTimeout().toNanos());
    }
    if (now >= nextProcessSweepNanos) {
      nextProcessSweepNanos = now + PROCESS_SWEEP_INTERVAL_NANOS;
      processes.sweep();
    }
    stats.publish(connections.size());
  }

  private void evictIdle(long silentSince) {
    for (Iterator<Connection> it = connections.values().iterator(); it.hasNext(); ) {
      Connection connection = it.next();
      if (connection.lastActivityNanos >= silentSince) {
        break; // the rest were active more recently
      }
      it.remove();
      unindex(connection);
      connection.evict();
      stats.evictedConnections++;
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
    connections.clear();
    byPid.clear();
    ignored.clear();
    stats.publish(0);
  }

  @Override
  public String toString() {
    return "HttpPipeline{" + connections.size() + " connections, " + settings + "}";
  }
}
