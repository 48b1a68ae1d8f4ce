package dev.spanwire.exporter.connection;

import dev.spanwire.exporter.filter.Redaction;
import dev.spanwire.exporter.protocol.BodyBudget;
import dev.spanwire.exporter.protocol.HeaderSelection;
import dev.spanwire.exporter.protocol.ProtocolSettings;
import dev.spanwire.exporter.protocol.http1.Http1Parser;
import dev.spanwire.exporter.trace.TraceSettings;
import java.time.Duration;

/**
 * Bounds and options of the HTTP pipeline.
 *
 * @param headers the header fields protocol sessions keep of each message (the product's, and those watch rules name)
 * @param bodyCaptureBytes body bytes kept per message (0: none)
 * @param maxHeadBytes bound on a header block
 * @param maxConnections connections tracked at once; the least recently active go first
 * @param idleTimeout a connection silent this long is dropped
 * @param maxPipelined requests waiting for responses on one connection
 * @param traced which connections are followed (command filter, ports, protocol detection)
 * @param redaction what is kept out of process command lines
 * @param traces how exchanges become traces (sampling, the linking window)
 */
public record PipelineSettings(
    HeaderSelection headers,
    int bodyCaptureBytes,
    int maxHeadBytes,
    int maxConnections,
    Duration idleTimeout,
    int maxPipelined,
    TracedConnections traced,
    Redaction redaction,
    TraceSettings traces) {

  public static final int DEFAULT_MAX_CONNECTIONS = 65536;
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
  public static final int DEFAULT_MAX_PIPELINED = 64;

  public PipelineSettings {
    if (bodyCaptureBytes < 0 || maxHeadBytes < 256 || maxConnections < 1 || maxPipelined < 1) {
      throw new IllegalArgumentException("invalid pipeline settings");
    }
  }

  /** What every protocol session of one pipeline follows, from these settings (a body budget of its own). */
  public ProtocolSettings protocol() {
    return protocol(BodyBudget.ofHeap());
  }

  /** The same with the pipeline's body budget. */
  public ProtocolSettings protocol(BodyBudget bodies) {
    return new ProtocolSettings(headers, bodyCaptureBytes, maxHeadBytes, maxPipelined, bodies);
  }

  public static PipelineSettings defaults() {
    return new PipelineSettings(
        HeaderSelection.product(), 0, Http1Parser.DEFAULT_MAX_HEAD_BYTES, DEFAULT_MAX_CONNECTIONS, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_PIPELINED,
        TracedConnections.defaults(), Redaction.defaults(), TraceSettings.defaults());
  }

  /** Every header field of messages kept, or only the product's. */
  public PipelineSettings withKeepHeaderLines(boolean keep) {
    return withHeaders(HeaderSelection.product(keep));
  }

  public PipelineSettings withHeaders(HeaderSelection headers) {
    return new PipelineSettings(headers, bodyCaptureBytes, maxHeadBytes, maxConnections, idleTimeout, maxPipelined, traced, redaction, traces);
  }

  public PipelineSettings withBodyCaptureBytes(int bytes) {
    return new PipelineSettings(headers, bytes, maxHeadBytes, maxConnections, idleTimeout, maxPipelined, traced, redaction, traces);
  }

  public PipelineSettings withMaxConnections(int max) {
    return new PipelineSettings(headers, bodyCaptureBytes, maxHeadBytes, max, idleTimeout, maxPipelined, traced, redaction, traces);
  }

  public PipelineSettings withIdleTimeout(Duration timeout) {
    return new PipelineSettings(headers, bodyCaptureBytes, maxHeadBytes, maxConnections, timeout, maxPipelined, traced, redaction, traces);
  }

  public PipelineSettings withTraced(TracedConnections connections) {
    return new PipelineSettings(headers, bodyCaptureBytes, maxHeadBytes, maxConnections, idleTimeout, maxPipelined, connections, redaction, traces);
  }

  public PipelineSettings withTraces(TraceSettings settings) {
    return new PipelineSettings(headers, bodyCaptureBytes, maxHeadBytes, maxConnections, idleTimeout, maxPipelined, traced, redaction, settings);
  }
}
