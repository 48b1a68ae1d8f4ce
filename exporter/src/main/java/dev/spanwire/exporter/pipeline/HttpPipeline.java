package dev.spanwire.exporter.pipeline;

import dev.spanwire.bpf.ConnectionClosed;
import dev.spanwire.bpf.ConnectionOpened;
import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.SocketEvent;
import dev.spanwire.bpf.SocketEventHandler;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.ProcessInfo;
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
  private long nextSweepNanos;
  private long nextProcessSweepNanos;

  HttpPipeline(
      ExchangeSink sink, PipelineSettings settings, ProcessRegistry processes, LongSupplier monotonicClock) {
    this.sink = sink;
    this.settings = settings;
    this.processes = processes;
    this.monotonicClock = monotonicClock;
  }

  /** A pipeline reading process information from /proc, timed by the kernel's clock. */
  public HttpPipeline(ExchangeSink sink, PipelineSettings settings) {
    this(sink, settings, new ProcessRegistry(), dev.spanwire.bpf.KernelClock::monotonicNanos);
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
          stats.unknownConnection++;
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
          stats.unknownConnection++;
          return;
        }
        connection.close(closed.timestampNanos());
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

  /** Closes every connection as if it ended now, reporting what waits; at shutdown. */
  public void closeAll() {
    long now = monotonicClock.getAsLong();
    for (Connection connection : connections.values()) {
      connection.close(now);
    }
    connections.clear();
    stats.publish(0);
  }

  @Override
  public String toString() {
    return "HttpPipeline{" + connections.size() + " connections, " + settings + "}";
  }
}
