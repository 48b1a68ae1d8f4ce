package dev.spanwire.exporter.protocol;

import dev.spanwire.exporter.counters.Counter;
import dev.spanwire.exporter.counters.Counters;
import dev.spanwire.semconv.AgentMetric;

/** The counters protocol sessions write, from the agent's registry; the pipeline thread writes. */
public final class ProtocolStats {
  public final Counter requests;
  public final Counter responses;
  public final Counter exchanges;
  public final Counter serverExchanges;
  public final Counter clientExchanges;
  public final Counter unanswered;
  public final Counter parseErrors;
  public final Counter resyncs;
  public final Counter unpaired;
  public final Counter unpairedRequests;
  public final Counter droppedPipelined;
  public final Counter upgrades;
  public final Counter hpackDesync;
  public final Counter http2UnknownMessages;
  public final Counter http2Resets;
  public final Counter http2Expired;
  public final Counter http2CutHeaders;

  public ProtocolStats(Counters counters) {
    requests = counters.counter(AgentMetric.REQUESTS);
    responses = counters.counter(AgentMetric.RESPONSES);
    exchanges = counters.counter(AgentMetric.EXCHANGES);
    serverExchanges = counters.counter(AgentMetric.SERVER_EXCHANGES);
    clientExchanges = counters.counter(AgentMetric.CLIENT_EXCHANGES);
    unanswered = counters.counter(AgentMetric.UNANSWERED);
    parseErrors = counters.counter(AgentMetric.PARSE_ERRORS);
    resyncs = counters.counter(AgentMetric.RESYNCS);
    unpaired = counters.counter(AgentMetric.UNPAIRED);
    unpairedRequests = counters.counter(AgentMetric.UNPAIRED_REQUESTS);
    droppedPipelined = counters.counter(AgentMetric.DROPPED_PIPELINED);
    upgrades = counters.counter(AgentMetric.UPGRADES);
    hpackDesync = counters.counter(AgentMetric.HTTP2_HPACK_DESYNC);
    http2UnknownMessages = counters.counter(AgentMetric.HTTP2_UNKNOWN_MESSAGES);
    http2Resets = counters.counter(AgentMetric.HTTP2_RESETS);
    http2Expired = counters.counter(AgentMetric.HTTP2_EXPIRED);
    http2CutHeaders = counters.counter(AgentMetric.HTTP2_CUT_HEADERS);
  }
}
