package dev.spanwire.exporter.connection;

import dev.spanwire.exporter.counters.Counters;
import dev.spanwire.semconv.AgentMetric;

/**
 * What the connection stage and its protocol sessions counted, read from the agent's registry
 * by name; any thread (values written by the pipeline thread show soon).
 */
public final class PipelineStats {
  private final Counters counters;

  PipelineStats(Counters counters) {
    this.counters = counters;
  }

  private long get(AgentMetric metric) {
    return counters.get(metric);
  }

  public long bytesCaptured() { return get(AgentMetric.BYTES_CAPTURED); }
  public long unknownConnection() { return get(AgentMetric.UNKNOWN_CONNECTION); }
  public long reordered() { return get(AgentMetric.REORDERED); }
  public long duplicates() { return get(AgentMetric.DUPLICATES); }
  public long gaps() { return get(AgentMetric.GAPS); }
  public long gapBytes() { return get(AgentMetric.GAP_BYTES); }
  public long skippedBytes() { return get(AgentMetric.SKIPPED_BYTES); }
  public long parseErrors() { return get(AgentMetric.PARSE_ERRORS); }
  public long resyncs() { return get(AgentMetric.RESYNCS); }
  public long requests() { return get(AgentMetric.REQUESTS); }
  public long responses() { return get(AgentMetric.RESPONSES); }
  public long exchanges() { return get(AgentMetric.EXCHANGES); }
  public long serverExchanges() { return get(AgentMetric.SERVER_EXCHANGES); }
  public long clientExchanges() { return get(AgentMetric.CLIENT_EXCHANGES); }
  public long unanswered() { return get(AgentMetric.UNANSWERED); }
  public long unpaired() { return get(AgentMetric.UNPAIRED); }
  public long unpairedRequests() { return get(AgentMetric.UNPAIRED_REQUESTS); }
  public long upgrades() { return get(AgentMetric.UPGRADES); }
  public long evictedConnections() { return get(AgentMetric.EVICTED_CONNECTIONS); }
  public long closesRecovered() { return get(AgentMetric.CLOSES_RECOVERED); }
  public long droppedPipelined() { return get(AgentMetric.DROPPED_PIPELINED); }
  public long ignoredConnections() { return get(AgentMetric.CONNECTIONS_IGNORED); }
  public long detected() { return get(AgentMetric.DETECTED); }
  public long reestablished() { return get(AgentMetric.REESTABLISHED); }
  public long processExits() { return get(AgentMetric.PROCESS_EXITS); }
  public long connections() { return get(AgentMetric.CONNECTIONS); }
  public long hpackDesync() { return get(AgentMetric.HTTP2_HPACK_DESYNC); }
  public long http2UnknownMessages() { return get(AgentMetric.HTTP2_UNKNOWN_MESSAGES); }
  public long http2Resets() { return get(AgentMetric.HTTP2_RESETS); }
  public long http2Expired() { return get(AgentMetric.HTTP2_EXPIRED); }
  public long http2CutHeaders() { return get(AgentMetric.HTTP2_CUT_HEADERS); }
  public long linksCrossProcess() { return get(AgentMetric.LINKS_CROSS_PROCESS); }
  public long linksInProcess() { return get(AgentMetric.LINKS_IN_PROCESS); }
  public long linksAmbiguous() { return get(AgentMetric.LINKS_AMBIGUOUS); }
  public long linksWindowExpired() { return get(AgentMetric.LINKS_WINDOW_EXPIRED); }

  @Override
  public String toString() {
    return counters.summary();
  }
}
