package dev.spanwire.exporter.otel;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The OpenTelemetry SDK's standard environment variables, applied to {@link ExportSettings}:
 * {@code OTEL_EXPORTER_OTLP_[TRACES_|METRICS_]{ENDPOINT,PROTOCOL,HEADERS,COMPRESSION,TIMEOUT,
 * CERTIFICATE,CLIENT_KEY,CLIENT_CERTIFICATE}}, {@code OTEL_TRACES_EXPORTER} /
 * {@code OTEL_METRICS_EXPORTER} ({@code none} turns a signal off), {@code OTEL_BSP_*},
 * {@code OTEL_METRIC_EXPORT_INTERVAL}, and {@code OTEL_SERVICE_NAME} /
 * {@code OTEL_RESOURCE_ATTRIBUTES} for the agent's own resource. A signal-specific variable wins
 * over the general one; a generic endpoint gets {@code /v1/traces} and {@code /v1/metrics} appended
 * for http/protobuf, as the specification says.
 */
public final class OtlpEnvironment {
  private OtlpEnvironment() {}

  /** {@code base} with every variable of {@code env} that is set applied. */
  public static ExportSettings apply(ExportSettings base, Map<String, String> env) {
    ExportSettings s = base;
    String protocolValue = first(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL");
    ExportSettings.Protocol protocol = protocolValue == null ? s.protocol() : protocol(protocolValue);
    String endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT");
    if (endpoint != null || protocol != s.protocol()) {
      String basis = endpoint != null ? endpoint
          : protocol == ExportSettings.Protocol.GRPC ? ExportSettings.DEFAULT_GRPC_ENDPOINT : ExportSettings.DEFAULT_HTTP_ENDPOINT;
      s = s.withEndpoint(protocol, basis);
    }
    String traces = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    String metrics = env.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
    if (traces != null || metrics != null) {
      s = s.withEndpoints(traces != null ? traces : s.tracesEndpoint(), metrics != null ? metrics : s.metricsEndpoint());
    }
    Map<String, String> headers = new LinkedHashMap<>(s.headers());
    headers.putAll(headers(env.get("OTEL_EXPORTER_OTLP_HEADERS"), "OTEL_EXPORTER_OTLP_HEADERS"));
    headers.putAll(headers(env.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS"), "OTEL_EXPORTER_OTLP_TRACES_HEADERS"));
    String compression = first(env, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION");
    String timeout = first(env, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT");
    s = s.withHeaders(headers, compression == null ? s.compression() : compression.strip(),
        timeout == null ? s.timeout() : millis("OTEL_EXPORTER_OTLP_TIMEOUT", timeout));
    String certificate = first(env, "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE");
    String key = first(env, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_KEY");
    String chain = first(env, "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE");
    if (certificate != null || key != null || chain != null) {
      s = s.withTls(certificate == null ? s.certificate() : Path.of(certificate),
          key == null ? s.clientKey() : Path.of(key), chain == null ? s.clientCertificate() : Path.of(chain));
    }
    boolean tracesOn = !"none".equals(strip(env.get("OTEL_TRACES_EXPORTER"))) && s.traces();
    boolean metricsOn = !"none".equals(strip(env.get("OTEL_METRICS_EXPORTER"))) && s.metrics();
    s = s.withSignals(tracesOn, metricsOn);
    String queue = env.get("OTEL_BSP_MAX_QUEUE_SIZE");
    String batch = env.get("OTEL_BSP_MAX_EXPORT_BATCH_SIZE");
    String delay = env.get("OTEL_BSP_SCHEDULE_DELAY");
    if (queue != null || batch != null || delay != null) {
      s = s.withBatching(
          queue == null ? s.maxQueueSize() : integer("OTEL_BSP_MAX_QUEUE_SIZE", queue),
          batch == null ? s.maxExportBatchSize() : integer("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", batch),
          delay == null ? s.scheduleDelay() : millis("OTEL_BSP_SCHEDULE_DELAY", delay));
    }
    String interval = env.get("OTEL_METRIC_EXPORT_INTERVAL");
    if (interval != null) {
      s = s.withMetricInterval(millis("OTEL_METRIC_EXPORT_INTERVAL", interval));
    }
    String service = env.get("OTEL_SERVICE_NAME");
    Map<String, String> resource = new LinkedHashMap<>(s.agentResourceAttributes());
    resource.putAll(headers(env.get("OTEL_RESOURCE_ATTRIBUTES"), "OTEL_RESOURCE_ATTRIBUTES"));
    String name = service != null && !service.isBlank() ? service.strip()
        : resource.containsKey("service.name") ? resource.get("service.name") : s.agentServiceName();
    resource.remove("service.name");
    return s.withAgentResource(name, resource);
  }

  static ExportSettings.Protocol protocol(String value) {
    return ExportSettings.Protocol.of(value.strip());
  }

  /** {@code key=value} pairs separated by commas, values percent-decoded (W3C Baggage format). */
  static Map<String, String> headers(String value, String variable) {
    Map<String, String> map = new LinkedHashMap<>();
    if (value == null || value.isBlank()) {
      return map;
    }
    for (String pair : value.split(",")) {
      if (pair.isBlank()) {
        continue;
      }
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(variable + ": expected key=value pairs separated by commas, got '" + pair.strip() + "'");
      }
      map.put(pair.substring(0, eq).strip(), URLDecoder.decode(pair.substring(eq + 1).strip(), StandardCharsets.UTF_8));
    }
    return map;
  }

  private static String first(Map<String, String> env, String specific, String general) {
    String value = env.get(specific);
    return value != null ? value : env.get(general);
  }

  private static String strip(String value) {
    return value == null ? null : value.strip();
  }

  private static Duration millis(String variable, String value) {
    return Duration.ofMillis(integer(variable, value));
  }

  private static int integer(String variable, String value) {
    try {
      return Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(variable + ": expected a whole number, got '" + value + "'");
    }
  }
}
