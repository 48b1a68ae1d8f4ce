package dev.spanwire.exporter.config;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Environment variables as configuration overrides: {@code SPANWIRE_*} for the settings users
 * commonly change, and the OpenTelemetry SDK's standard {@code OTEL_*} variables for export
 * ({@code OTEL_EXPORTER_OTLP_[TRACES_|METRICS_]*}, {@code OTEL_TRACES_EXPORTER} /
 * {@code OTEL_METRICS_EXPORTER} = none, {@code OTEL_BSP_*}, {@code OTEL_METRIC_EXPORT_INTERVAL},
 * {@code OTEL_SERVICE_NAME}, {@code OTEL_RESOURCE_ATTRIBUTES}, {@code OTEL_TRACES_SAMPLER[_ARG]}). A traces-specific variable wins
 * over the general one; times without a unit are milliseconds, as the SDK reads them.
 */
public final class Environment {
  private Environment() {}

  /** {@code SPANWIRE_*} variables and the path each sets. */
  public static final Map<String, String> SPANWIRE = orderedMap(
      "SPANWIRE_PID", Keys.PID,
      "SPANWIRE_COMM", Keys.COMM,
      "SPANWIRE_PORTS", Keys.PORTS,
      "SPANWIRE_CAPTURE_BYTES", Keys.CAPTURE_BYTES,
      "SPANWIRE_CAPTURE_BACKEND", Keys.CAPTURE_BACKEND,
      "SPANWIRE_CATCH_UP_NICE", Keys.CATCH_UP_NICE,
      "SPANWIRE_OTLP_CONCURRENT_EXPORTS", Keys.OTLP_CONCURRENT,
      "SPANWIRE_PROTOCOL_REGEX", Keys.PROTOCOL_REGEX,
      "SPANWIRE_PROTOCOL_DETECT", Keys.PROTOCOL_DETECT,
      "SPANWIRE_CAPTURE_REQUEST", Keys.CAPTURE_REQUEST,
      "SPANWIRE_CAPTURE_RESPONSE", Keys.CAPTURE_RESPONSE,
      "SPANWIRE_MAX_BODY_SIZE", Keys.MAX_BODY_SIZE,
      "SPANWIRE_MIN_LATENCY", Keys.MIN_LATENCY,
      "SPANWIRE_OUTPUT", Keys.OUTPUT,
      "SPANWIRE_COLUMNS", Keys.COLUMNS,
      "SPANWIRE_SEMCONV", Keys.SEMCONV,
      "SPANWIRE_METRICS_OUTPUT", Keys.METRICS_OUTPUT,
      "SPANWIRE_HEALTH_FILE", Keys.HEALTH_FILE);

  /** The overrides {@code env} holds, in the order they apply. */
  public static List<ConfigLayers.Override> overrides(Map<String, String> env) {
    List<ConfigLayers.Override> out = new ArrayList<>();
    SPANWIRE.forEach((variable, path) -> set(out, env, path, variable));
    otlp(out, env);
    return out;
  }

  private static void otlp(List<ConfigLayers.Override> out, Map<String, String> env) {
    set(out, env, Keys.OTLP_ENDPOINT, "OTEL_EXPORTER_OTLP_ENDPOINT");
    set(out, env, Keys.OTLP_TRACES_ENDPOINT, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    set(out, env, Keys.OTLP_METRICS_ENDPOINT, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
    set(out, env, Keys.OTLP_PROTOCOL, "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
    set(out, env, Keys.OTLP_COMPRESSION, "OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION");
    set(out, env, Keys.OTLP_TIMEOUT, "OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT");
    set(out, env, Keys.OTLP_CERTIFICATE, "OTEL_EXPORTER_OTLP_CERTIFICATE", "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE");
    set(out, env, Keys.OTLP_CLIENT_KEY, "OTEL_EXPORTER_OTLP_CLIENT_KEY", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY");
    set(out, env, Keys.OTLP_CLIENT_CERTIFICATE,
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE");
    for (String variable : List.of("OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS")) {
      // the traces-specific headers add to (and override) the general ones
      if (env.get(variable) != null) {
        Map<String, String> headers = new LinkedHashMap<>();
        out.stream().filter(o -> o.path().equals(Keys.OTLP_HEADERS)).forEach(o -> headers.putAll(stringMap(o.value())));
        headers.putAll(pairs(variable, env.get(variable)));
        out.add(new ConfigLayers.Override(Keys.OTLP_HEADERS, headers, origin(variable)));
      }
    }
    if ("none".equals(strip(env.get("OTEL_TRACES_EXPORTER")))) {
      out.add(new ConfigLayers.Override(Keys.OTLP_TRACES, false, origin("OTEL_TRACES_EXPORTER")));
    }
    if ("none".equals(strip(env.get("OTEL_METRICS_EXPORTER")))) {
      out.add(new ConfigLayers.Override(Keys.OTLP_METRICS, false, origin("OTEL_METRICS_EXPORTER")));
    }
    set(out, env, Keys.OTLP_QUEUE, "OTEL_BSP_MAX_QUEUE_SIZE");
    set(out, env, Keys.OTLP_BATCH, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE");
    set(out, env, Keys.OTLP_DELAY, "OTEL_BSP_SCHEDULE_DELAY");
    set(out, env, Keys.OTLP_METRIC_INTERVAL, "OTEL_METRIC_EXPORT_INTERVAL");
    set(out, env, Keys.TRACES_SAMPLER, "OTEL_TRACES_SAMPLER");
    set(out, env, Keys.TRACES_SAMPLER_ARG, "OTEL_TRACES_SAMPLER_ARG");
    String attributesValue = env.get("OTEL_RESOURCE_ATTRIBUTES");
    if (attributesValue != null) {
      Map<String, String> attributes = pairs("OTEL_RESOURCE_ATTRIBUTES", attributesValue);
      String name = attributes.remove("service.name");
      if (name != null) {
        out.add(new ConfigLayers.Override(Keys.OTLP_SERVICE_NAME, name, origin("OTEL_RESOURCE_ATTRIBUTES")));
      }
      out.add(new ConfigLayers.Override(Keys.OTLP_RESOURCE_ATTRIBUTES, attributes, origin("OTEL_RESOURCE_ATTRIBUTES")));
    }
    String service = strip(env.get("OTEL_SERVICE_NAME"));
    if (service != null && !service.isEmpty()) {
      out.add(new ConfigLayers.Override(Keys.OTLP_SERVICE_NAME, service, origin("OTEL_SERVICE_NAME")));
    }
  }

  /** The first of {@code variables} that is set, later ones winning, as text for {@code path}. */
  private static void set(List<ConfigLayers.Override> out, Map<String, String> env, String path, String... variables) {
    for (String variable : variables) {
      String value = env.get(variable);
      if (value != null) {
        out.add(new ConfigLayers.Override(path, value, origin(variable)));
      }
    }
  }

  static String origin(String variable) {
    return "environment variable " + variable;
  }

  /** {@code key=value} pairs separated by commas, values percent-decoded (W3C Baggage format). */
  static Map<String, String> pairs(String variable, String value) {
    Map<String, String> map = new LinkedHashMap<>();
    for (String pair : value.split(",")) {
      if (pair.isBlank()) {
        continue;
      }
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw new BadConfigException(variable, "expected key=value pairs separated by commas, got '" + pair.strip() + "'");
      }
      map.put(pair.substring(0, eq).strip(), URLDecoder.decode(pair.substring(eq + 1).strip(), StandardCharsets.UTF_8));
    }
    return map;
  }

  private static Map<String, String> stringMap(Object value) {
    Map<String, String> map = new LinkedHashMap<>();
    if (value instanceof Map<?, ?> m) {
      m.forEach((k, v) -> map.put(String.valueOf(k), String.valueOf(v)));
    }
    return map;
  }

  private static String strip(String value) {
    return value == null ? null : value.strip();
  }

  private static Map<String, String> orderedMap(String... pairs) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      map.put(pairs[i], pairs[i + 1]);
    }
    return java.util.Collections.unmodifiableMap(map);
  }
}
