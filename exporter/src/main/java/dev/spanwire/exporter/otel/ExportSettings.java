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
  public static final int DEFAULT_MAX_QUEUE_SIZE = 2048;
  public static final int DEFAULT_MAX_EXPORT_BATCH_SIZE = 512;
  public static final Duration DEFAULT_SCHEDULE_DELAY = Duration.ofSeconds(5);
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
    if (cardinalityLimit < 1) {
      throw new IllegalArgumentException("cardinality limit must be positive");
    }
  }

  /** Everything exported over gRPC to localhost:4317, gzip, the SDK's batch defaults. */
  public static ExportSettings defaults() {
    return new ExportSettings(
        true, true, Protocol.GRPC, DEFAULT_GRPC_ENDPOINT, DEFAULT_GRPC_ENDPOINT, Map.of(), "gzip",
        DEFAULT_TIMEOUT, null, null, null, DEFAULT_MAX_QUEUE_SIZE, DEFAULT_MAX_EXPORT_BATCH_SIZE,
        DEFAULT_SCHEDULE_DELAY, DEFAULT_METRIC_INTERVAL, DEFAULT_CARDINALITY_LIMIT,
        NamingScheme.APPSCOPE, "spanwire", Map.of());
  }

  /** Both signals to one base endpoint: as is for gRPC, plus /v1/traces and /v1/metrics for HTTP. */
  public ExportSettings withEndpoint(Protocol newProtocol, String base) {
    String trimmed = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    String traces = newProtocol == Protocol.GRPC ? trimmed : trimmed + "/v1/traces";
    String metricsUrl = newProtocol == Protocol.GRPC ? trimmed : trimmed + "/v1/metrics";
    return new ExportSettings(traces(), metrics(), newProtocol, traces, metricsUrl, headers, compression, timeout,
        certificate, clientKey, clientCertificate, maxQueueSize, maxExportBatchSize, scheduleDelay,
        metricInterval, cardinalityLimit, scheme, agentServiceName, agentResourceAttributes);
  }

  public ExportSettings withScheme(NamingScheme newScheme) {
    return new ExportSettings(traces, metrics, protocol, tracesEndpoint, metricsEndpoint, headers, compression, timeout,
        certificate, clientKey, clientCertificate, maxQueueSize, maxExportBatchSize, scheduleDelay,
        metricInterval, cardinalityLimit, newScheme, agentServiceName, agentResourceAttributes);
  }

  public ExportSettings withBatching(int queue, int batch, Duration delay) {
    return new ExportSettings(traces, metrics, protocol, tracesEndpoint, metricsEndpoint, headers, compression, timeout,
        certificate, clientKey, clientCertificate, queue, batch, delay,
        metricInterval, cardinalityLimit, scheme, agentServiceName, agentResourceAttributes);
  }

  public ExportSettings withMetricInterval(Duration interval) {
    return new ExportSettings(traces, metrics, protocol, tracesEndpoint, metricsEndpoint, headers, compression, timeout,
        certificate, clientKey, clientCertificate, maxQueueSize, maxExportBatchSize, scheduleDelay,
        interval, cardinalityLimit, scheme, agentServiceName, agentResourceAttributes);
  }

  public ExportSettings withSignals(boolean exportTraces, boolean exportMetrics) {
    return new ExportSettings(exportTraces, exportMetrics, protocol, tracesEndpoint, metricsEndpoint, headers, compression, timeout,
        certificate, clientKey, clientCertificate, maxQueueSize, maxExportBatchSize, scheduleDelay,
        metricInterval, cardinalityLimit, scheme, agentServiceName, agentResourceAttributes);
  }

  public ExportSettings withHeaders(Map<String, String> newHeaders, String newCompression, Duration newTimeout) {
    return new ExportSettings(traces, metrics, protocol, tracesEndpoint, metricsEndpoint, newHeaders, newCompression, newTimeout,
        certificate, clientKey, clientCertificate, maxQueueSize, maxExportBatchSize, scheduleDelay,
        metricInterval, cardinalityLimit, scheme, agentServiceName, agentResourceAttributes);
  }

  public ExportSettings withTls(Path trusted, Path key, Path chain) {
    return new ExportSettings(traces, metrics, protocol, tracesEndpoint, metricsEndpoint, headers, compression, timeout,
        trusted, key, chain, maxQueueSize, maxExportBatchSize, scheduleDelay,
        metricInterval, cardinalityLimit, scheme, agentServiceName, agentResourceAttributes);
  }

  public ExportSettings withAgentResource(String serviceName, Map<String, String> attributes) {
    return new ExportSettings(traces, metrics, protocol, tracesEndpoint, metricsEndpoint, headers, compression, timeout,
        certificate, clientKey, clientCertificate, maxQueueSize, maxExportBatchSize, scheduleDelay,
        metricInterval, cardinalityLimit, scheme, serviceName, attributes);
  }

  public ExportSettings withEndpoints(String traces, String metricsUrl) {
    return new ExportSettings(traces(), metrics(), protocol, traces, metricsUrl, headers, compression, timeout,
        certificate, clientKey, clientCertificate, maxQueueSize, maxExportBatchSize, scheduleDelay,
        metricInterval, cardinalityLimit, scheme, agentServiceName, agentResourceAttributes);
  }

  public ExportSettings withCardinalityLimit(int limit) {
    return new ExportSettings(traces, metrics, protocol, tracesEndpoint, metricsEndpoint, headers, compression, timeout,
        certificate, clientKey, clientCertificate, maxQueueSize, maxExportBatchSize, scheduleDelay,
        metricInterval, limit, scheme, agentServiceName, agentResourceAttributes);
  }

  /** Headers are secrets (API keys): only their names show. */
  @Override
  public String toString() {
    return "ExportSettings{traces=" + traces + ", metrics=" + metrics + ", " + protocol + " " + tracesEndpoint
        + " / " + metricsEndpoint + ", headers=" + headers.keySet() + ", compression=" + compression
        + ", timeout=" + timeout + ", queue=" + maxQueueSize + ", batch=" + maxExportBatchSize
        + ", delay=" + scheduleDelay + ", metric interval=" + metricInterval + ", scheme=" + scheme + "}";
  }
}
