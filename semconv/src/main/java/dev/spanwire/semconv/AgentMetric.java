package dev.spanwire.semconv;

/**
 * The agent's own counters and gauges, each declared once here: exported as metrics under the
 * agent's own resource ({@code service.name=spanwire}, the same names in every naming scheme),
 * named in the exit summary when they have a summary label, and in the once-a-minute drop report
 * when they count a loss.
 */
public enum AgentMetric {
  // capture (kernel and ring buffer)
  EVENTS_RECEIVED("spanwire.events.received", "{event}", true, "records", false, "Ring buffer records read"),
  EVENTS_LOST("spanwire.events.lost", "{event}", true, "lost in kernel", true,
      "Records the kernel could not put in the ring buffer"),
  BYTES_LOST("spanwire.bytes.lost", "By", true, "bytes lost in kernel", false, "Payload bytes of the records lost"),
  CONNECTIONS_UNTRACKED("spanwire.connections.untracked", "{connection}", true, "untracked connections", true,
      "Sockets the kernel's connection table had no room for"),
  STALE_CONNECTIONS("spanwire.connections.stale", "{connection}", true, "stale connections", false,
      "Kernel entries whose fd had come to name another file (dup2, close-on-exec, close_range, io_uring)"),
  STASH_FULL("spanwire.syscalls.unseen", "{syscall}", true, "syscalls unseen", true,
      "Syscalls whose arguments found no room in the kernel (their bytes unseen, the stream resynchronised)"),
  SIZE_ONLY("spanwire.events.size_only", "{event}", true, "length-only events", false,
      "Socket capture: data moved by calls with no one buffer to read (sendfile, splice, several messages per call, io_uring, kernel threads), sent as its length"),
  PRESSURE_CUT("spanwire.events.pressure_cut", "{event}", true, "events cut under pressure", true,
      "Data events the kernel copied short (their first 512 bytes) while the ring buffer was more than half full"),
  BYTES_NOT_COPIED("spanwire.bytes.not_copied", "By", true, "bytes not copied", false,
      "Body bytes the parser skips by length, which the kernel sent as their length only"),
  HTTP2_DATA_NOT_COPIED("spanwire.bytes.http2_data_not_copied", "By", true, "HTTP/2 DATA bytes not copied", false,
      "HTTP/2 DATA payload bytes the kernel's frame walk sent as their length only"),
  HTTP2_WALKS_LOST("spanwire.http2.walks_lost", "{stream}", true, "HTTP/2 frame walks lost", false,
      "Directions of HTTP/2 connections whose kernel frame walk lost the frame boundaries and stopped (their bytes copied whole again)"),
  TLS_CALLS("spanwire.tls.calls", "{call}", true, "TLS calls", false,
      "TLS library read and write calls that moved plaintext (uprobe hits)"),
  TLS_UNATTRIBUTED("spanwire.tls.unattributed", "{call}", true, "TLS calls without a connection", true,
      "TLS library calls whose socket was not found (their plaintext dropped)"),
  TLS_BYTES("spanwire.bytes.tls", "By", true, "TLS bytes", false,
      "Ciphertext of connections whose plaintext a TLS library showed (counted, not parsed)"),
  READER_CATCH_UPS("spanwire.reader.catch_ups", "{event}", true, "reader catch-ups", false,
      "Times the ring buffer reader fell a quarter of the ring behind and ran at its catch-up nice value until it had caught up"),
  MALFORMED("spanwire.events.malformed", "{event}", true, "malformed", true, "Ring buffer records that did not decode"),
  HANDLER_FAILURES("spanwire.events.failed", "{event}", true, "handler failures", true,
      "Records whose handling threw (counted, skipped)"),
  // connections and streams
  BYTES_CAPTURED("spanwire.bytes.captured", "By", true, "bytes captured", false, "Payload bytes captured"),
  CONNECTIONS("spanwire.connections", "{connection}", false, null, false, "Connections tracked"),
  PROCESSES("spanwire.processes", "{process}", false, null, false, "Processes whose details (name, service) are kept"),
  CONNECTIONS_IGNORED("spanwire.connections.ignored", "{connection}", true, "connections ignored", false,
      "Connections the command filter or protocol detection left out"),
  DETECTED("spanwire.connections.detected", "{connection}", true, "detected", false,
      "Connections recognised by the protocol detection regex"),
  REESTABLISHED("spanwire.connections.reestablished", "{connection}", true, "re-established", false,
      "Connections picked up again from the kernel's table after their open was lost or they were dropped"),
  EVICTED_CONNECTIONS("spanwire.connections.evicted", "{connection}", true, "evicted", false,
      "Connections dropped for idleness or the table bound"),
  CLOSES_RECOVERED("spanwire.connections.close_recovered", "{connection}", true, "closes recovered", false,
      "Connections closed because the kernel's table no longer had them after it lost events (their close among the losses)"),
  PROCESS_EXITS("spanwire.processes.exited", "{process}", true, "process exits", false,
      "Traced processes whose exit closed their connections"),
  UNKNOWN_CONNECTION("spanwire.events.unknown_connection", "{event}", true, "unknown connection events", true,
      "Events of connections neither open in the pipeline nor in the kernel's table (dropped)"),
  REORDERED("spanwire.events.reordered", "{event}", true, null, false, "Events that arrived ahead of their place"),
  DUPLICATES("spanwire.events.duplicate", "{event}", true, null, false, "Events (or parts) whose bytes had been seen"),
  GAPS("spanwire.gaps", "{gap}", true, "gaps", true, "Ranges of a stream no event covered (lost)"),
  GAP_BYTES("spanwire.gaps.bytes", "By", true, null, false, "Bytes in those ranges"),
  SKIPPED_BYTES("spanwire.bytes.skipped", "By", true, null, false, "Bytes moved but not captured (beyond the capture size)"),
  // protocol sessions
  REQUESTS("spanwire.requests", "{request}", true, null, false, "Requests parsed"),
  RESPONSES("spanwire.responses", "{response}", true, null, false, "Final responses parsed"),
  EXCHANGES("spanwire.exchanges", "{exchange}", true, "exchanges", false, "Exchanges reported with a response"),
  SERVER_EXCHANGES("spanwire.exchanges.server", "{exchange}", true, "server", false,
      "Exchanges reported by the server side"),
  CLIENT_EXCHANGES("spanwire.exchanges.client", "{exchange}", true, "client", false,
      "Exchanges reported by the client side"),
  UNANSWERED("spanwire.requests.unanswered", "{request}", true, "unanswered", false,
      "Requests reported without a response (the connection closed, or the agent stopped)"),
  PARSE_ERRORS("spanwire.parse.errors", "{message}", true, "parse errors", true, "Malformed messages dropped"),
  RESYNCS("spanwire.resyncs", "{resync}", true, "resyncs", false, "Streams resynchronised after an error or lost bytes"),
  UNPAIRED("spanwire.messages.unpaired", "{message}", true, "unpaired", true,
      "Requests and responses dropped because loss left their pair unknowable"),
  UNPAIRED_REQUESTS("spanwire.requests.unpaired", "{request}", true, null, false, "The requests among them"),
  DROPPED_PIPELINED("spanwire.requests.dropped_pipelined", "{request}", true, "dropped past the pipelining bound", true,
      "Requests dropped (their place kept) past the pipelining bound"),
  UPGRADES("spanwire.connections.upgraded", "{connection}", true, "upgrades", false,
      "Connections that left a protocol (HTTP/1 upgrade, CONNECT tunnel, HTTP/2 preface)"),
  HTTP2_HPACK_DESYNC("spanwire.http2.hpack_desync", "{field}", true, "hpack desync", true,
      "HTTP/2 header fields whose dynamic-table entry was not known (joined late, or a header block lost)"),
  HTTP2_UNKNOWN_MESSAGES("spanwire.http2.unknown_messages", "{message}", true, "HTTP/2 messages unknown", true,
      "HTTP/2 requests or responses dropped because a field they need (:method, :path, :status) was unknown"),
  HTTP2_RESETS("spanwire.http2.resets", "{stream}", true, "HTTP/2 resets", false,
      "HTTP/2 streams ended by RST_STREAM or past a GOAWAY"),
  HTTP2_EXPIRED("spanwire.http2.expired", "{stream}", true, "HTTP/2 streams expired", true,
      "HTTP/2 streams dropped past the per-connection bound"),
  HTTP2_CUT_HEADERS("spanwire.http2.cut_headers", "{frame}", true, "HTTP/2 header frames cut", true,
      "HTTP/2 header frames not captured whole (their block undecodable)"),
  // trace linking
  LINKS_CROSS_PROCESS("spanwire.links.cross_process", "{span}", true, "linked across processes", false,
      "Server spans made children of the traced client span of the same request on this host"),
  LINKS_IN_PROCESS("spanwire.links.in_process", "{span}", true, "linked in process", false,
      "Client spans made children of the one server exchange open on their thread"),
  LINKS_AMBIGUOUS("spanwire.links.ambiguous", "{span}", true, "link ambiguous", false,
      "Client spans left roots because more than one server exchange was open on their thread"),
  LINKS_WINDOW_EXPIRED("spanwire.links.window_expired", "{span}", true, "link window expired", false,
      "Server spans held for a traced client's write that did not come within the linking window"),
  // filters and outputs
  BELOW_MIN_LATENCY("spanwire.exchanges.below_min_latency", "{exchange}", true, "below min latency", false,
      "Exchanges faster than http.min-latency (in the metrics, not reported)"),
  METRICS_DROPPED("spanwire.metrics.dropped", "{datapoint}", true, "metric points dropped", true,
      "AppScope metric points dropped: label sets past the bound of an interval, StatsD lines that could not be sent"),
  OUTPUT_DROPPED("spanwire.output.dropped", "{line}", true, "output dropped", true,
      "Table or JSON lines dropped because stdout was too slow"),
  // span export
  SPANS_SAMPLED_OUT("spanwire.spans.sampled_out", "{span}", true, "sampled out", false,
      "Spans of traces the sampler did not keep (never exported; the metrics count them)"),
  SPANS_EXPORTED("spanwire.spans.exported", "{span}", true, "spans exported", false, "Spans the endpoint accepted"),
  SPANS_DROPPED("spanwire.spans.dropped", "{span}", true, "spans dropped", true,
      "Spans dropped: queue full, refused by the endpoint, or unsent at shutdown"),
  SPANS_REJECTED("spanwire.spans.rejected", "{span}", true, "refused", false,
      "Spans the endpoint refused for good (a non-retryable OTLP status; also counted as dropped)"),
  EXPORT_FAILURES("spanwire.export.failures", "{export}", true, "export failures", false,
      "Span exports the endpoint refused or timed out (each retry counts)"),
  EXPORT_CATCH_UPS("spanwire.export.catch_ups", "{event}", true, "export catch-ups", false,
      "Times a span export worker found the queue a quarter full and ran at the catch-up nice value until it had drained to an eighth"),
  QUEUE_SIZE("spanwire.queue.size", "{span}", false, null, false, "Spans waiting for export"),
  QUEUE_CAPACITY("spanwire.queue.capacity", "{span}", false, null, false, "Spans the export queue holds");

  private final String metricName;
  private final String unit;
  private final boolean counter;
  private final String summaryLabel;
  private final boolean loss;
  private final String description;

  AgentMetric(String metricName, String unit, boolean counter, String summaryLabel, boolean loss, String description) {
    this.metricName = metricName;
    this.unit = unit;
    this.counter = counter;
    this.summaryLabel = summaryLabel;
    this.loss = loss;
    this.description = description;
  }

  /** How the exit summary names it, or null when the summary leaves it out. */
  public String summaryLabel() {
    return summaryLabel;
  }

  /** Whether it counts something lost: the once-a-minute drop report names what it grew by. */
  public boolean loss() {
    return loss;
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
