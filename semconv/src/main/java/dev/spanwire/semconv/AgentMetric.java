package dev.spanwire.semconv;

/**
 * The agent's own metrics, exported under its own resource ({@code service.name=spanwire}). Their
 * names are the same in every naming scheme.
 */
public enum AgentMetric {
  EVENTS_RECEIVED("spanwire.events.received", "{event}", true, "Ring buffer records read"),
  EVENTS_LOST("spanwire.events.lost", "{event}", true, "Records the kernel could not put in the ring buffer"),
  BYTES_CAPTURED("spanwire.bytes.captured", "By", true, "Payload bytes captured"),
  PARSE_ERRORS("spanwire.parse.errors", "{message}", true, "Malformed HTTP messages dropped"),
  RESYNCS("spanwire.resyncs", "{resync}", true, "Streams resynchronised after an error or lost bytes"),
  EXCHANGES("spanwire.exchanges", "{exchange}", true, "HTTP exchanges reported"),
  CONNECTIONS_IGNORED("spanwire.connections.ignored", "{connection}", true,
      "Connections the command filter or protocol detection left out"),
  BELOW_MIN_LATENCY("spanwire.exchanges.below_min_latency", "{exchange}", true,
      "Exchanges faster than http.min-latency (in the metrics, not reported)"),
  OUTPUT_DROPPED("spanwire.output.dropped", "{line}", true, "Table or JSON lines dropped because stdout was too slow"),
  CONNECTIONS("spanwire.connections", "{connection}", false, "Connections tracked"),
  UNPAIRED("spanwire.messages.unpaired", "{message}", true,
      "Requests and responses dropped because loss left their pair unknowable"),
  UNANSWERED("spanwire.requests.unanswered", "{request}", true,
      "Requests reported without a response (the connection closed, or the agent stopped)"),
  UNKNOWN_CONNECTION("spanwire.events.unknown_connection", "{event}", true,
      "Events of connections neither open in the pipeline nor in the kernel's table (dropped)"),
  REESTABLISHED("spanwire.connections.reestablished", "{connection}", true,
      "Connections picked up again from the kernel's table after their open was lost or they were dropped"),
  STASH_FULL("spanwire.syscalls.unseen", "{syscall}", true,
      "Syscalls whose arguments found no room in the kernel (their bytes unseen, the stream resynchronised)"),
  STALE_CONNECTIONS("spanwire.connections.stale", "{connection}", true,
      "Kernel entries whose fd had come to name another file (dup2, close-on-exec, close_range, io_uring)"),
  SPANS_EXPORTED("spanwire.spans.exported", "{span}", true, "Spans the endpoint accepted"),
  SPANS_DROPPED("spanwire.spans.dropped", "{span}", true,
      "Spans dropped: queue full, refused by the endpoint, or unsent at shutdown"),
  SPANS_REJECTED("spanwire.spans.rejected", "{span}", true,
      "Spans the endpoint refused for good (a non-retryable OTLP status; also counted as dropped)"),
  EXPORT_FAILURES("spanwire.export.failures", "{export}", true,
      "Span exports the endpoint refused or timed out (each retry counts)"),
  QUEUE_SIZE("spanwire.queue.size", "{span}", false, "Spans waiting for export"),
  QUEUE_CAPACITY("spanwire.queue.capacity", "{span}", false, "Spans the export queue holds");

  private final String metricName;
  private final String unit;
  private final boolean counter;
  private final String description;

  AgentMetric(String metricName, String unit, boolean counter, String description) {
    this.metricName = metricName;
    this.unit = unit;
    this.counter = counter;
    this.description = description;
  }

  /** The metric's name, e.g. {@code spanwire.events.lost}. */
  public String metricName() {
    return metricName;
  }

  public String unit() {
    return unit;
  }

  /** A cumulative counter; otherwise a gauge. */
  public boolean counter() {
    return counter;
  }

  public String description() {
    return description;
  }
}
