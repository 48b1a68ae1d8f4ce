package dev.spanwire.exporter.pipeline;

import dev.spanwire.bpf.ConnectionClosed;
import dev.spanwire.bpf.ConnectionOpened;
import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.SocketEvent;
import dev.spanwire.bpf.SocketEventHandler;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.ProcessInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
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
  private final PipelineStats stats = new PipelineStats();
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
    this(sink, settings, new ProcessRegistry(Path.of("/proc"), settings.redaction()), dev.spanwire.bpf.KernelClock::monotonicNanos);
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
          if (!ignored.containsKey(data.connectionId())) {
            stats.unknownConnection++;
          }
          return;
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
        Connection connection = connections.remove(closed.connectionId());
        if (connection == null) {
          if (ignored.remove(closed.connectionId()) == null) {
            stats.unknownConnection++;
          }
          return;
        }
        connection.close(closed.timestampNanos(), closed.bytesEgress(), closed.bytesIngress());
      }
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
    Connection connection = new Connection(info, stats, sink, settings);
    connection.lastActivityNanos = opened.timestampNanos();
    connections.put(opened.connectionId(), connection);
    if (connections.size() > settings.maxConnections()) {
      Iterator<Connection> eldest = connections.values().iterator();
      eldest.next().evict();
      eldest.remove();
      stats.evictedConnections++;
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
      connections.remove(info.id());
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
      connection.evict();
      it.remove();
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
    ignored.clear();
    stats.publish(0);
  }

  @Override
  public String toString() {
    return "HttpPipeline{" + connections.size() + " connections, " + settings + "}";
  }
}
