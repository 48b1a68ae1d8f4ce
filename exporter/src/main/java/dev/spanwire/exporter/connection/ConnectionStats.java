package dev.spanwire.exporter.connection;

import dev.spanwire.exporter.counters.Counter;
import dev.spanwire.exporter.counters.Counters;
import dev.spanwire.semconv.AgentMetric;

/** The counters the connection stage writes, from the agent's registry; the pipeline thread writes. */
final class ConnectionStats {
  final Counter bytesCaptured;
  final Counter unknownConnection;
  final Counter reordered;
  final Counter duplicates;
  final Counter gaps;
  final Counter gapBytes;
  final Counter skippedBytes;
  final Counter evictedConnections;
  final Counter closesRecovered;
  final Counter ignoredConnections;
  final Counter detected;
  final Counter reestablished;
  final Counter processExits;

  ConnectionStats(Counters counters) {
    bytesCaptured = counters.counter(AgentMetric.BYTES_CAPTURED);
    unknownConnection = counters.counter(AgentMetric.UNKNOWN_CONNECTION);
    reordered = counters.counter(AgentMetric.REORDERED);
    duplicates = counters.counter(AgentMetric.DUPLICATES);
    gaps = counters.counter(AgentMetric.GAPS);
    gapBytes = counters.counter(AgentMetric.GAP_BYTES);
    skippedBytes = counters.counter(AgentMetric.SKIPPED_BYTES);
    evictedConnections = counters.counter(AgentMetric.EVICTED_CONNECTIONS);
    closesRecovered = counters.counter(AgentMetric.CLOSES_RECOVERED);
    ignoredConnections = counters.counter(AgentMetric.CONNECTIONS_IGNORED);
    detected = counters.counter(AgentMetric.DETECTED);
    reestablished = counters.counter(AgentMetric.REESTABLISHED);
    processExits = counters.counter(AgentMetric.PROCESS_EXITS);
  }
}
