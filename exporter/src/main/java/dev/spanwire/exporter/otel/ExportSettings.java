package dev.spanwire.exporter.otel;

import dev.spanwire.semconv.NamingScheme;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where and how spans and metrics go.
 *
 * @param traces spans are exported
 * @param metrics metrics are exported
 * @param protocol OTLP transport
 * @param tracesEndpoint full URL spans go to ({@code http://host:4317} for gRPC,
 *     {@code http://host:4318/v1/traces} for http/protobuf)
 * @param metricsEndpoint full URL metrics go to
 * @param headers headers sent with every export (e.g. an API key)
 * @param compression {@code gzip} or {@code none}
 * @param timeout how long one export may take
 * @param certificate PEM file of the certificates to trust for TLS, or null for the JVM's
 * @param clientKey PEM private key for mutual TLS, or null
 * @param clientCertificate PEM certificate chain for mutual TLS, or null
 * @param maxQueueSize spans waiting for export; more are dropped (counted)
 * @param maxExportBatchSize spans per export
 * @param scheduleDelay the longest a span waits before its batch goes out
 * @param maxConcurrentExports span export requests in flight at once
 * @param catchUpNice the nice value a span export worker runs at while the queue is behind (see
 *     {@code SpanBatcher}); 0 never changes it
 * @param metricInterval how often metrics are exported
 * @param cardinalityLimit attribute sets per metric and process; more go to an overflow series
 * @param scheme attribute and metric names
 * @param agentServiceName {@code service.name} of the agent's own metrics
 * @param agentResourceAttributes further attributes of the agent's resource
 */
public record ExportSettings(
    boolean traces,
    boolean metrics,
    Protocol protocol,
    String tracesEndpoint,
    String metricsEndpoint,
    Map<String, String> headers,
    String compression,
    Duration timeout,
    Path certificate,
    Path clientKey,
    Path clientCertificate,
    int maxQueueSize,
    int maxExportBatchSize,
    Duration scheduleDelay,
    int maxConcurrentExports,
    int catchUpNice,
    Duration metricInterval,
    int cardinalityLimit,
    NamingScheme scheme,
    String agentServiceName,
    Map<String, String> agentResourceAttributes) {

  /** OTLP transports. */
  public enum Protocol {
    GRPC("grpc"),
    HTTP_PROTOBUF("http/protobuf");

    private final String id;

    Protocol(String id) {
      this.id = id;
    }

    public String id() {
      return id;
    }

    public static Protocol of(String id) {
      for (Protocol protocol : values()) {
        if (protocol.id.equals(id)) {
          return protocol;
        }
      }
      throw new IllegalArgumentException("unknown OTLP protocol '" + id + "', expected grpc or http/protobuf");
    }

    @Override
    public String toString() {
      return id;
    }
  }

  public static final String DEFAULT_GRPC_ENDPOINT = "http://localhost:4317";
  public static final String DEFAULT_HTTP_ENDPOINT = "http://localhost:4318";
  /**
   * Four times the SDK's 2,048: an agent exports the spans of a whole host, tens of thousands a
   * second, and 2,048 of them are some 50 ms of that, less than one export's stall on a busy host
   * (wrk and nginx both traced with export, 30 s runs: 3,168 and 8,568 spans dropped at 2,048, none
   * at 8,192). The byte bound ({@code SpanBatcher.MAX_QUEUE_BYTES}, an eighth of the heap) still
   * holds what the queue may keep.
   */
  public static final int DEFAULT_MAX_QUEUE_SIZE = 8192;
  public static final int DEFAULT_MAX_EXPORT_BATCH_SIZE = 512;
  public static final Duration DEFAULT_SCHEDULE_DELAY = Duration.ofSeconds(5);
  /** Export requests in flight at once: a batch is encoded and sent while the last one waits for its answer. */
  public static final int DEFAULT_MAX_CONCURRENT_EXPORTS = 2;
  public static final int MAX_CONCURRENT_EXPORTS = 16;
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration DEFAULT_METRIC_INTERVAL = Duration.ofSeconds(60);
  public static final int DEFAULT_CARDINALITY_LIMIT = 2000;

  public ExportSettings {
    // in the order given: toString and the requests show them as configured
    headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    agentResourceAttributes = Collections.unmodifiableMap(new LinkedHashMap<>(agentResourceAttributes));
    if (maxQueueSize < 1 || maxExportBatchSize < 1 || maxExportBatchSize > maxQueueSize) {
      throw new IllegalArgumentException("batch size must be 1..queue size, got " + maxExportBatchSize + " of " + maxQueueSize);
    }
    if (!compression.equals("gzip") && !compression.equals("none")) {
      throw new IllegalArgumentException("compression must be gzip or none, got '" + compression + "'");
    }
    if (maxConcurrentExports < 1 || maxConcurrentExports > MAX_CONCURRENT_EXPORTS) {
      throw new IllegalArgumentException("concurrent exports must be 1.." + MAX_CONCURRENT_EXPORTS + ", got " + maxConcurrentExports);
    }
    dev.spanwire.bpf.ThreadNice.checkRange(catchUpNice);
    if (cardinalityLimit < 1) {
      throw new IllegalArgumentException("cardinality limit must be positive");
    }
  }

  /** Everything exported over gRPC to localhost:4317, gzip, the SDK's batch defaults. */
  public static ExportSettings defaults() {
    return new Builder().build();
  }

  /** Both signals to one base endpoint: as is for gRPC, plus /v1/traces and /v1/metrics for HTTP. */
  public ExportSettings withEndpoint(Protocol newProtocol, String base) {
    String trimmed = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    Builder b = toBuilder();
    b.protocol = newProtocol;
    b.tracesEndpoint = newProtocol == Protocol.GRPC ? trimmed : trimmed + "/v1/traces";
    b.metricsEndpoint = newProtocol == Protocol.GRPC ? trimmed : trimmed + "/v1/metrics";
    return b.build();
  }

  /** Full URLs for each signal, used as they are. */
  public ExportSettings withEndpoints(String traces, String metricsUrl) {
    Builder b = toBuilder();
    b.tracesEndpoint = traces;
    b.metricsEndpoint = metricsUrl;
    return b.build();
  }

  public ExportSettings withScheme(NamingScheme newScheme) {
    Builder b = toBuilder();
    b.scheme = newScheme;
    return b.build();
  }

  public ExportSettings withBatching(int queue, int batch, Duration delay) {
    Builder b = toBuilder();
    b.maxQueueSize = queue;
    b.maxExportBatchSize = batch;
    b.scheduleDelay = delay;
    return b.build();
  }

  public ExportSettings withConcurrentExports(int concurrent) {
    Builder b = toBuilder();
    b.maxConcurrentExports = concurrent;
    return b.build();
  }

  public ExportSettings withCatchUpNice(int nice) {
    Builder b = toBuilder();
    b.catchUpNice = nice;
    return b.build();
  }

  public ExportSettings withMetricInterval(Duration interval) {
    Builder b = toBuilder();
    b.metricInterval = interval;
    return b.build();
  }

  public ExportSettings withSignals(boolean exportTraces, boolean exportMetrics) {
    Builder b = toBuilder();
    b.traces = exportTraces;
    b.metrics = exportMetrics;
    return b.build();
  }

  public ExportSettings withHeaders(Map<String, String> newHeaders, String newCompression, Duration newTimeout) {
    Builder b = toBuilder();
    b.headers = newHeaders;
    b.compression = newCompression;
    b.timeout = newTimeout;
    return b.build();
  }

  public ExportSettings withTls(Path trusted, Path key, Path chain) {
    Builder b = toBuilder();
    b.certificate = trusted;
    b.clientKey = key;
    b.clientCertificate = chain;
    return b.build();
  }

  public ExportSettings withAgentResource(String serviceName, Map<String, String> attributes) {
    Builder b = toBuilder();
    b.agentServiceName = serviceName;
    b.agentResourceAttributes = attributes;
    return b.build();
  }

  public ExportSettings withCardinalityLimit(int limit) {
    Builder b = toBuilder();
    b.cardinalityLimit = limit;
    return b.build();
  }

  private Builder toBuilder() {
    Builder b = new Builder();
    b.traces = traces;
    b.metrics = metrics;
    b.protocol = protocol;
    b.tracesEndpoint = tracesEndpoint;
    b.metricsEndpoint = metricsEndpoint;
    b.headers = headers;
    b.compression = compression;
    b.timeout = timeout;
    b.certificate = certificate;
    b.clientKey = clientKey;
    b.clientCertificate = clientCertificate;
    b.maxQueueSize = maxQueueSize;
    b.maxExportBatchSize = maxExportBatchSize;
    b.scheduleDelay = scheduleDelay;
    b.maxConcurrentExports = maxConcurrentExports;
    b.catchUpNice = catchUpNice;
    b.metricInterval = metricInterval;
    b.cardinalityLimit = cardinalityLimit;
    b.scheme = scheme;
    b.agentServiceName = agentServiceName;
    b.agentResourceAttributes = agentResourceAttributes;
    return b;
  }

  /** The components, starting from the defaults; each with* method changes one group of them. */
  private static final class Builder {
    boolean traces = true;
    boolean metrics = true;
    Protocol protocol = Protocol.GRPC;
    String tracesEndpoint = DEFAULT_GRPC_ENDPOINT;
    String metricsEndpoint = DEFAULT_GRPC_ENDPOINT;
    Map<String, String> headers = Map.of();
    String compression = "gzip";
    Duration timeout = DEFAULT_TIMEOUT;
    Path certificate;
    Path clientKey;
    Path clientCertificate;
    int maxQueueSize = DEFAULT_MAX_QUEUE_SIZE;
    int maxExportBatchSize = DEFAULT_MAX_EXPORT_BATCH_SIZE;
    Duration scheduleDelay = DEFAULT_SCHEDULE_DELAY;
    int maxConcurrentExports = DEFAULT_MAX_CONCURRENT_EXPORTS;
    int catchUpNice = dev.spanwire.bpf.CaptureConfig.DEFAULT_CATCH_UP_NICE;
    Duration metricInterval = DEFAULT_METRIC_INTERVAL;
    int cardinalityLimit = DEFAULT_CARDINALITY_LIMIT;
    NamingScheme scheme = NamingScheme.APPSCOPE;
    String agentServiceName = "spanwire";
    Map<String, String> agentResourceAttributes = Map.of();

    ExportSettings build() {
      return new ExportSettings(traces, metrics, protocol, tracesEndpoint, metricsEndpoint, headers, compression, timeout,
          certificate, clientKey, clientCertificate, maxQueueSize, maxExportBatchSize, scheduleDelay, maxConcurrentExports,
          catchUpNice, metricInterval, cardinalityLimit, scheme, agentServiceName, agentResourceAttributes);
    }
  }

  /** Headers are secrets (API keys): only their names show. */
  @Override
  public String toString() {
    return "ExportSettings{traces=" + traces + ", metrics=" + metrics + ", " + protocol + " " + tracesEndpoint
        + " / " + metricsEndpoint + ", headers=" + headers.keySet() + ", compression=" + compression
        + ", timeout=" + timeout + ", queue=" + maxQueueSize + ", batch=" + maxExportBatchSize
        + ", delay=" + scheduleDelay + ", concurrent exports=" + maxConcurrentExports + ", metric interval=" + metricInterval + ", scheme=" + scheme + "}";
  }
}
