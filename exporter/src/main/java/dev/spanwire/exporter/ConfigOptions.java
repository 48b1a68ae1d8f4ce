package dev.spanwire.exporter;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.spanwire.exporter.CommandLine.Arity;
import dev.spanwire.exporter.CommandLine.Flag;
import dev.spanwire.exporter.config.ConfigLayers;
import dev.spanwire.exporter.config.Environment;
import dev.spanwire.exporter.config.Keys;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The flags that set configuration (the trace_http gadget's parameters among them), shared by
 * the agent and {@code spanwire config}. Each maps to one configuration key; only flags given on
 * the command line override the lower layers, and their text is checked with the rest of the
 * configuration, so a bad flag value is reported like a bad file value. Defaults shown in
 * {@code --help} are read from reference.conf.
 */
final class ConfigOptions {
  /** Each flag's configuration key, in the order {@code --help} lists them. */
  static final Map<String, String> KEYS = keys(
      "--pid", Keys.PID,
      "--comm", Keys.COMM,
      "--ports", Keys.PORTS,
      "--capture-request", Keys.CAPTURE_REQUEST,
      "--capture-response", Keys.CAPTURE_RESPONSE,
      "--max-body-size", Keys.MAX_BODY_SIZE,
      "--min-latency", Keys.MIN_LATENCY,
      "--capture-bytes", Keys.CAPTURE_BYTES,
      "--capture-backend", Keys.CAPTURE_BACKEND,
      "--detect", Keys.PROTOCOL_DETECT,
      "--output", Keys.OUTPUT,
      "--columns", Keys.COLUMNS,
      "--semconv", Keys.SEMCONV,
      "--metrics-output", Keys.METRICS_OUTPUT,
      "--otlp-endpoint", Keys.OTLP_ENDPOINT,
      "--otlp-protocol", Keys.OTLP_PROTOCOL);

  /** {@code --config} and the flags of {@link #KEYS}, in help order. */
  static final List<Flag> FLAGS = List.of(
      new Flag(null, "--config", "FILE", Arity.VALUE,
          "A HOCON configuration file (e.g. config/application.conf); flags and environment variables win over it."),
      new Flag(null, "--pid", "PID", Arity.VALUE,
          "Trace only this process; 0 traces every process (default: {default})."),
      new Flag(null, "--comm", "REGEX", Arity.VALUE,
          "Trace only processes whose command name matches (default: every command)."),
      new Flag(null, "--ports", "PORTS", Arity.VALUE,
          "Ports traced whatever their bytes, comma-separated, or 'any'; other ports when their "
              + "first payload looks like HTTP (default: {default})."),
      new Flag(null, "--capture-request", "BOOL", Arity.OPTIONAL_BOOLEAN,
          "Report request headers, body and http-req events (default: {default})."),
      new Flag(null, "--capture-response", "BOOL", Arity.OPTIONAL_BOOLEAN,
          "Report response headers, body and http-resp events (default: {default})."),
      new Flag(null, "--max-body-size", "BYTES", Arity.VALUE,
          "Body bytes kept per message and exported; 0 keeps none (default: {default})."),
      new Flag(null, "--min-latency", "MS", Arity.VALUE,
          "Leave out exchanges faster than this many milliseconds; metrics still count them (default: {default})."),
      new Flag(null, "--capture-bytes", "BYTES", Arity.VALUE,
          "Payload bytes the kernel copies per syscall, 1..16384 (default: {default})."),
      new Flag(null, "--capture-backend", "BACKEND", Arity.VALUE,
          "socket (tracepoints of kernel 6.3+, only socket operations pay), syscall, or auto (default: {default})."),
      new Flag(null, "--detect", "BOOL", Arity.OPTIONAL_BOOLEAN,
          "Emit AppScope's remote_protocol event when a connection is detected as HTTP (default: {default})."),
      new Flag("-o", "--output", "FORMAT", Arity.VALUE,
          "table, json, none or raw; auto is table on a terminal, json otherwise (default: {default})."),
      new Flag(null, "--columns", "COLUMNS", Arity.VALUE,
          "Table columns, comma-separated, or +name/-name to add or remove one, e.g. +user_agent "
              + "(default: {default}; also tid, uid, gid, content_length, user_agent, trace_id)."),
      new Flag(null, "--semconv", "SCHEME", Arity.VALUE,
          "Attribute and metric names: appscope, otel-legacy or otel-stable (default: {default})."),
      new Flag(null, "--metrics-output", "WHERE", Arity.VALUE,
          "AppScope's metrics beside OTLP: none, json (metric events on stdout, with --output json or none) "
              + "or statsd (to metrics.statsd, udp://127.0.0.1:8125 by default) (default: {default})."),
      new Flag(null, "--otlp-endpoint", "URL", Arity.VALUE,
          "Where spans and metrics go, or 'none' (default: OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4317)."),
      new Flag(null, "--otlp-protocol", "PROTOCOL", Arity.VALUE,
          "grpc or http/protobuf (default: OTEL_EXPORTER_OTLP_PROTOCOL, else {default})."));

  private final CommandLine.Parsed parsed;

  ConfigOptions(CommandLine.Parsed parsed) {
    this.parsed = parsed;
  }

  /** The effective configuration: these flags over {@code env} over the file over reference.conf. */
  Config load(Map<String, String> env) {
    Config file = parsed.has("--config") ? ConfigLayers.file(Path.of(parsed.value("--config"))) : null;
    return ConfigLayers.load(file, Environment.overrides(env), flagOverrides());
  }

  /** The flags given on this command line, as overrides of their keys. */
  List<ConfigLayers.Override> flagOverrides() {
    List<ConfigLayers.Override> overrides = new ArrayList<>();
    KEYS.forEach((flag, key) -> {
      if (parsed.has(flag)) {
        String value = parsed.value(flag);
        overrides.add(new ConfigLayers.Override(key, flag.equals("--min-latency") ? millis(value) : value, "command line " + flag));
      }
    });
    return overrides;
  }

  /** The gadget's --min-latency is in milliseconds; a value with a unit is taken as it is. */
  private static String millis(String value) {
    return value.strip().matches("\\d+(\\.\\d+)?") ? value.strip() + "ms" : value;
  }

  /** {@code {default}} of a flag in {@code --help}: its key's value in reference.conf. */
  static String referenceDefault(Config reference, Flag flag) {
    ConfigValue value = reference.getValue(KEYS.get(flag.longName()));
    if (value.valueType() == ConfigValueType.LIST) {
      return ((List<?>) value.unwrapped()).stream().map(String::valueOf).collect(Collectors.joining(","));
    }
    String text = String.valueOf(value.unwrapped());
    return flag.longName().equals("--min-latency") ? text.replace("ms", "") : text;
  }

  private static Map<String, String> keys(String... pairs) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      map.put(pairs[i], pairs[i + 1]);
    }
    return java.util.Collections.unmodifiableMap(map);
  }
}
