package dev.spanwire.exporter;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.spanwire.exporter.config.ConfigLayers;
import dev.spanwire.exporter.config.Environment;
import dev.spanwire.exporter.config.Keys;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

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

  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(names = "--config", paramLabel = "FILE", order = 0,
      description = "A HOCON configuration file (e.g. config/application.conf); flags and environment variables win over it.")
  Path config;

  @Option(names = "--pid", paramLabel = "PID", order = 1,
      description = "Trace only this process; 0 traces every process (default: ${DEFAULT-VALUE}).")
  String pid;

  @Option(names = "--comm", paramLabel = "REGEX", order = 2,
      description = "Trace only processes whose command name matches (default: every command).")
  String comm;

  @Option(names = "--ports", paramLabel = "PORTS", order = 3,
      description = "Ports traced whatever their bytes, comma-separated, or 'any'; other ports when their "
          + "first payload looks like HTTP (default: ${DEFAULT-VALUE}).")
  String ports;

  @Option(names = "--capture-request", paramLabel = "BOOL", arity = "0..1", fallbackValue = "true", order = 4,
      description = "Report request headers, body and http-req events (default: ${DEFAULT-VALUE}).")
  String captureRequest;

  @Option(names = "--capture-response", paramLabel = "BOOL", arity = "0..1", fallbackValue = "true", order = 5,
      description = "Report response headers, body and http-resp events (default: ${DEFAULT-VALUE}).")
  String captureResponse;

  @Option(names = "--max-body-size", paramLabel = "BYTES", order = 6,
      description = "Body bytes kept per message and exported; 0 keeps none (default: ${DEFAULT-VALUE}).")
  String maxBodySize;

  @Option(names = "--min-latency", paramLabel = "MS", order = 7,
      description = "Leave out exchanges faster than this many milliseconds; metrics still count them (default: ${DEFAULT-VALUE}).")
  String minLatency;

  @Option(names = "--capture-bytes", paramLabel = "BYTES", order = 8,
      description = "Payload bytes the kernel copies per syscall, 1..16384 (default: ${DEFAULT-VALUE}).")
  String captureBytes;

  @Option(names = "--capture-backend", paramLabel = "BACKEND", order = 8,
      description = "socket (tracepoints of kernel 6.3+, only socket operations pay), syscall, or auto (default: ${DEFAULT-VALUE}).")
  String captureBackend;

  @Option(names = "--detect", paramLabel = "BOOL", arity = "0..1", fallbackValue = "true", order = 9,
      description = "Emit AppScope's remote_protocol event when a connection is detected as HTTP (default: ${DEFAULT-VALUE}).")
  String detect;

  @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", order = 10,
      description = "table, json, none or raw; auto is table on a terminal, json otherwise (default: ${DEFAULT-VALUE}).")
  String output;

  @Option(names = "--columns", paramLabel = "COLUMNS", order = 11,
      description = "Table columns, comma-separated, or +name/-name to add or remove one, e.g. +user_agent "
          + "(default: ${DEFAULT-VALUE}; also tid, uid, gid, content_length, user_agent, trace_id).")
  String columns;

  @Option(names = "--semconv", paramLabel = "SCHEME", order = 12,
      description = "Attribute and metric names: appscope, otel-legacy or otel-stable (default: ${DEFAULT-VALUE}).")
  String semconv;

  @Option(names = "--metrics-output", paramLabel = "WHERE", order = 13,
      description = "AppScope's metrics beside OTLP: none, json (metric events on stdout, with --output json or none) "
          + "or statsd (to metrics.statsd, udp://127.0.0.1:8125 by default) (default: ${DEFAULT-VALUE}).")
  String metricsOutput;

  @Option(names = "--otlp-endpoint", paramLabel = "URL", order = 14,
      description = "Where spans and metrics go, or 'none' (default: OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4317).")
  String otlpEndpoint;

  @Option(names = "--otlp-protocol", paramLabel = "PROTOCOL", order = 15,
      description = "grpc or http/protobuf (default: OTEL_EXPORTER_OTLP_PROTOCOL, else ${DEFAULT-VALUE}).")
  String otlpProtocol;

  /** The effective configuration: these flags over {@code env} over the file over reference.conf. */
  Config load(Map<String, String> env) {
    Config file = config == null ? null : ConfigLayers.file(config);
    return ConfigLayers.load(file, Environment.overrides(env), flagOverrides());
  }

  /** The flags given on this command line, as overrides of their keys. */
  List<ConfigLayers.Override> flagOverrides() {
    ParseResult parsed = mixee.commandLine().getParseResult();
    List<ConfigLayers.Override> overrides = new ArrayList<>();
    KEYS.forEach((flag, key) -> {
      if (parsed.hasMatchedOption(flag)) {
        String value = parsed.matchedOptionValue(flag, "");
        overrides.add(new ConfigLayers.Override(key, flag.equals("--min-latency") ? millis(value) : value, "command line " + flag));
      }
    });
    return overrides;
  }

  /** The gadget's --min-latency is in milliseconds; a value with a unit is taken as it is. */
  private static String millis(String value) {
    return value.strip().matches("\\d+(\\.\\d+)?") ? value.strip() + "ms" : value;
  }

  /** {@code ${DEFAULT-VALUE}} of each flag in {@code --help}: its key's value in reference.conf. */
  static final class ReferenceDefaults implements CommandLine.IDefaultValueProvider {
    private final Config reference = ConfigLayers.reference();

    @Override
    public String defaultValue(ArgSpec arg) {
      if (!(arg instanceof OptionSpec option) || !KEYS.containsKey(option.longestName())) {
        return null;
      }
      ConfigValue value = reference.getValue(KEYS.get(option.longestName()));
      if (value.valueType() == ConfigValueType.LIST) {
        return ((List<?>) value.unwrapped()).stream().map(String::valueOf).collect(Collectors.joining(","));
      }
      String text = String.valueOf(value.unwrapped());
      return option.longestName().equals("--min-latency") ? text.replace("ms", "") : text;
    }
  }

  private static Map<String, String> keys(String... pairs) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      map.put(pairs[i], pairs[i + 1]);
    }
    return java.util.Collections.unmodifiableMap(map);
  }
}
