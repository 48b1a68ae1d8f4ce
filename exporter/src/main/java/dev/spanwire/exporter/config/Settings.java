package dev.spanwire.exporter.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.spanwire.bpf.CaptureBackend;
import dev.spanwire.bpf.CaptureConfig;
import dev.spanwire.bpf.ThreadNice;
import dev.spanwire.exporter.exchange.WatchedHeaders;
import dev.spanwire.exporter.filter.FilterSettings;
import dev.spanwire.exporter.filter.Redaction;
import dev.spanwire.exporter.filter.WatchRule;
import dev.spanwire.exporter.protocol.HeaderSelection;
import dev.spanwire.exporter.protocol.http1.Http1Parser;
import dev.spanwire.exporter.otel.ExportSettings;
import dev.spanwire.exporter.output.Column;
import dev.spanwire.exporter.output.Output;
import dev.spanwire.exporter.connection.PipelineSettings;
import dev.spanwire.exporter.output.MetricSettings;
import dev.spanwire.exporter.trace.Sampler;
import dev.spanwire.exporter.trace.TraceSettings;
import dev.spanwire.exporter.connection.TracedConnections;
import dev.spanwire.semconv.NamingScheme;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Everything the agent runs with, read once from the effective configuration and checked: each
 * concern's settings record, built eagerly so that a bad value stops start-up with one line that
 * names the key, the value, where it came from and what was expected.
 *
 * @param capture what the kernel captures
 * @param pipeline how the pipeline follows connections
 * @param filter what of each exchange users see
 * @param output what goes to stdout, or null to choose by the terminal
 * @param columns the table's columns
 * @param export OpenTelemetry export, or null when off
 * @param eventTraceIds whether JSON events carry the exchange's trace and span ids
 * @param metrics AppScope's metric output (JSON metric events, StatsD)
 * @param healthFile where the agent writes the time while it captures (a liveness probe reads it), or null
 */
public record Settings(
    CaptureConfig capture,
    PipelineSettings pipeline,
    FilterSettings filter,
    Output output,
    List<Column> columns,
    ExportSettings export,
    boolean eventTraceIds,
    MetricSettings metrics,
    java.nio.file.Path healthFile) {

  /** The largest body kept per message: bodies are held in memory until their message ends. */
  public static final long MAX_BODY_SIZE = 1 << 20;

  /**
   * The settings of an effective configuration (see {@link ConfigLayers#load}). Anything wrong
   * is a {@link BadConfigException} naming the setting, where it was set and what was expected.
   */
  public static Settings from(Config config) {
    try {
      return read(config);
    } catch (ConfigException e) {
      // a reader that met a shape it did not expect: still the user's configuration, still said so
      throw new BadConfigException(ConfigLayers.ROOT, e.getMessage());
    }
  }

  private static Settings read(Config config) {
    checkKeys(config);
    Reader r = new Reader(config);
    int maxBody = (int) r.bytes(Keys.MAX_BODY_SIZE, 0, MAX_BODY_SIZE);
    int captureBytes = r.integer(Keys.CAPTURE_BYTES, 1, CaptureConfig.MAX_CAPTURE_BYTES);
    Ports ports = r.ports(Keys.PORTS);
    CaptureConfig capture = CaptureConfig.defaults()
        .withTargetPid(r.integer(Keys.PID, 0, Integer.MAX_VALUE))
        // a body starts after its header block, often in the same write: grow by the body size
        .withCaptureBytes((int) Math.min(CaptureConfig.MAX_CAPTURE_BYTES, (long) captureBytes + maxBody))
        .withCapturePorts(ports.all() ? List.of() : List.copyOf(ports.ports()))
        .withAllPorts(ports.all())
        .withRingBufferBytes(r.ringBuffer(Keys.RING_BUFFER_SIZE))
        .withBackend(r.parsed(Keys.CAPTURE_BACKEND, CaptureBackend::of))
        .withCatchUpNice(r.integer(Keys.CATCH_UP_NICE, ThreadNice.MIN, ThreadNice.MAX))
        // a captured body needs its DATA payloads copied
        .withFollowHttp2(maxBody == 0);

    WatchRule watch = r.watch(Keys.WATCH);
    TracedConnections traced = new TracedConnections(
        r.regexOrNull(Keys.COMM), ports.ports(), ports.all(), r.regex(Keys.PROTOCOL_REGEX), r.bool(Keys.PROTOCOL_DETECT));
    Redaction redaction = new Redaction(
        new LinkedHashSet<>(r.strings(Keys.REDACT_HEADERS)), r.strings(Keys.REDACT_QUERY_PARAMETERS),
        r.string(Keys.REDACT_REPLACEMENT));
    HeaderSelection headers = HeaderSelection.product();
    if (watch != null && !watch.headers().isEmpty()) {
      // the headers the watched regexes name, or all of them when one may match any line
      List<String> watched = new WatchedHeaders(watch.headers()).names();
      headers = watched == null ? HeaderSelection.product(true) : headers.with(watched);
    }
    PipelineSettings pipeline = new PipelineSettings(
        headers,
        maxBody,
        Http1Parser.DEFAULT_MAX_HEAD_BYTES,
        r.integer(Keys.MAX_CONNECTIONS, 1, 1 << 24),
        r.duration(Keys.IDLE_TIMEOUT, Duration.ofSeconds(1)),
        PipelineSettings.DEFAULT_MAX_PIPELINED,
        traced,
        redaction,
        new TraceSettings(
            r.parsed(Keys.TRACES_SAMPLER, () -> Sampler.of(r.string(Keys.TRACES_SAMPLER), r.ratio(Keys.TRACES_SAMPLER_ARG))),
            r.duration(Keys.TRACES_LINKING_WINDOW, Duration.ZERO, TraceSettings.MAX_LINKING_WINDOW)));
    FilterSettings filter = new FilterSettings(
        r.bool(Keys.CAPTURE_REQUEST), r.bool(Keys.CAPTURE_RESPONSE), r.duration(Keys.MIN_LATENCY, Duration.ZERO),
        redaction, watch);

    String format = r.string(Keys.OUTPUT);
    Output output = format.equals("auto") ? null : r.parsed(Keys.OUTPUT, Output::of);
    List<Column> columns = new ArrayList<>();
    for (String name : r.strings(Keys.COLUMNS)) {
      columns.add(r.parsed(Keys.COLUMNS, () -> Column.of(name)));
    }
    if (columns.isEmpty()) {
      throw r.bad(Keys.COLUMNS, "at least one column");
    }
    NamingScheme scheme = r.parsed(Keys.SEMCONV, NamingScheme::of);
    return new Settings(capture, pipeline, filter, output, List.copyOf(columns), r.export(scheme),
        r.bool(Keys.EVENTS_TRACE_IDS), metrics(r, output),
        // a path the file system refuses (a NUL in it) is an IllegalArgumentException: said by name
        r.string(Keys.HEALTH_FILE).isBlank() ? null : r.parsed(Keys.HEALTH_FILE, java.nio.file.Path::of));
  }

  private static MetricSettings metrics(Reader r, Output output) {
    MetricSettings.Output where = r.parsed(Keys.METRICS_OUTPUT, MetricSettings.Output::of);
    if (where == MetricSettings.Output.JSON && (output == Output.TABLE || output == Output.RAW)) {
      throw r.bad(Keys.METRICS_OUTPUT, "none or statsd while output.format is " + output.name().toLowerCase(java.util.Locale.ROOT)
          + " (metric events go to stdout, with the JSON events: set output.format to json or none)");
    }
    return new MetricSettings(where, r.parsed(Keys.METRICS_STATSD, MetricSettings::statsdAddress),
        r.duration(Keys.METRICS_INTERVAL, Duration.ofMillis(100)), r.bool(Keys.METRICS_PER_EXCHANGE), r.bool(Keys.METRICS_AGENT));
  }

  /** Unknown keys under {@code spanwire} are refused: a misspelt key would silently do nothing. */
  private static void checkKeys(Config config) {
    Config reference = ConfigLayers.reference();
    if (!config.hasPath(ConfigLayers.ROOT)) {
      return;
    }
    if (config.getValue(ConfigLayers.ROOT).valueType() != ConfigValueType.OBJECT) {
      throw new BadConfigException(ConfigLayers.ROOT, "expected an object of settings " + from(config.getValue(ConfigLayers.ROOT)));
    }
    checkKeys(config.getObject(ConfigLayers.ROOT), ConfigLayers.ROOT, reference);
  }

  private static void checkKeys(ConfigObject object, String path, Config reference) {
    for (Map.Entry<String, ConfigValue> entry : object.entrySet()) {
      String child = path + "." + entry.getKey();
      // setting names are plain words; anything else (a quoted key with dots or spaces) is unknown
      if (!entry.getKey().matches("[A-Za-z0-9_-]+") || !reference.hasPathOrNull(child)) {
        throw new BadConfigException(child, "unknown setting " + from(entry.getValue())
            + "; see reference.conf or 'spanwire config' for the settings there are");
      }
      if (entry.getValue().valueType() == ConfigValueType.NULL && reference.hasPath(child)) {
        throw new BadConfigException(child, "= null " + from(entry.getValue())
            + ": expected a value (leave the setting out for its default)");
      }
      if (entry.getValue() instanceof ConfigObject nested && !Keys.isFreeForm(child) && reference.hasPath(child)
          && reference.getValue(child).valueType() == ConfigValueType.OBJECT) {
        checkKeys(nested, child, reference);
      }
    }
  }

  /** "(from FILE:LINE)", "(from environment variable X)", or nothing for reference.conf. */
  static String from(ConfigValue value) {
    return "(from " + describe(value.origin()) + ")";
  }

  /** A short origin: {@code reference.conf:12}, {@code /etc/spanwire.conf:3}, or as given. */
  public static String describe(ConfigOrigin origin) {
    if (origin.resource() != null) {
      return origin.resource() + (origin.lineNumber() > 0 ? ":" + origin.lineNumber() : "");
    }
    if (origin.filename() != null) {
      return origin.filename() + (origin.lineNumber() > 0 ? ":" + origin.lineNumber() : "");
    }
    return origin.description();
  }

  private record Ports(Set<Integer> ports, boolean all) {}

  /** Typed, checked reads; every failure names the key, the value and its origin. */
  private static final class Reader {
    private final Config config;

    Reader(Config config) {
      this.config = config;
    }

    BadConfigException bad(String key, String expected) {
      // a key set to null has no value to show (getValue refuses it)
      ConfigValue value = config.hasPath(key) ? config.getValue(key) : null;
      String shown = value != null ? "= " + value.render(ConfigRenderOptions.concise()) + " " + from(value)
          : config.hasPathOrNull(key) ? "= null" : "missing";
      return new BadConfigException(key, shown + ": expected " + expected);
    }

    private <T> T read(String key, String expected, java.util.function.Supplier<T> read) {
      try {
        return read.get();
      } catch (ConfigException e) {
        throw bad(key, expected);
      }
    }

    <T> T parsed(String key, java.util.function.Function<String, T> parse) {
      String text = string(key);
      try {
        return parse.apply(text);
      } catch (IllegalArgumentException e) {
        throw bad(key, e.getMessage().replaceFirst("^.*expected ", ""));
      }
    }

    <T> T parsed(String key, java.util.function.Supplier<T> parse) {
      try {
        return parse.get();
      } catch (IllegalArgumentException e) {
        throw bad(key, e.getMessage().replaceFirst("^.*expected ", ""));
      }
    }

    String string(String key) {
      if (config.hasPath(key) && config.getValue(key).valueType() != ConfigValueType.STRING
          && config.getValue(key).valueType() != ConfigValueType.NUMBER
          && config.getValue(key).valueType() != ConfigValueType.BOOLEAN) {
        throw bad(key, "a string");
      }
      return read(key, "a string", () -> config.getString(key));
    }

    boolean bool(String key) {
      return read(key, "true or false", () -> config.getBoolean(key));
    }

    int integer(String key, int min, int max) {
      int value = read(key, "a whole number " + min + ".." + max, () -> config.getInt(key));
      if (value < min || value > max) {
        throw bad(key, "a whole number " + min + ".." + max);
      }
      return value;
    }

    long bytes(String key, long min, long max) {
      long value = read(key, "a size in bytes " + min + ".." + max + " (e.g. 4096 or 64 KiB)", () -> config.getBytes(key));
      if (value < min || value > max) {
        throw bad(key, "a size in bytes " + min + ".." + max);
      }
      return value;
    }

    int ringBuffer(String key) {
      long value = bytes(key, 4096, 1L << 30);
      if (Long.bitCount(value) != 1) {
        throw bad(key, "a power of two (e.g. 8 MiB)");
      }
      return (int) value;
    }

    Duration duration(String key, Duration min, Duration max) {
      Duration value = duration(key, min);
      if (value.compareTo(max) > 0) {
        throw bad(key, "a duration of at most " + max.toMillis() + "ms");
      }
      return value;
    }

    /** A number from 0 to 1. */
    double ratio(String key) {
      double value = read(key, "a number from 0 to 1", () -> config.getDouble(key));
      if (!(value >= 0 && value <= 1)) {
        throw bad(key, "a number from 0 to 1");
      }
      return value;
    }

    Duration duration(String key, Duration min) {
      Duration value = read(key, "a duration (e.g. 250ms, 10s)", () -> config.getDuration(key));
      if (value.compareTo(min) < 0) {
        throw bad(key, "a duration of at least " + min.toMillis() + "ms");
      }
      return value;
    }

    List<String> strings(String key) {
      return read(key, "a list of strings", () -> config.getStringList(key));
    }

    Pattern regex(String key) {
      String text = string(key);
      try {
        return Pattern.compile(text);
      } catch (PatternSyntaxException e) {
        throw bad(key, "a regular expression (" + e.getDescription() + " at index " + e.getIndex() + ")");
      }
    }

    Pattern regexOrNull(String key) {
      return string(key).isEmpty() ? null : regex(key);
    }

    Ports ports(String key) {
      ConfigValue value = config.getValue(key);
      String expected = "a list of at most " + CaptureConfig.MAX_CAPTURE_PORTS + " ports 1..65535, or \"any\"";
      if (value.valueType() == ConfigValueType.STRING && "any".equalsIgnoreCase(String.valueOf(value.unwrapped()))) {
        return new Ports(Set.of(), true);
      }
      if (value.valueType() != ConfigValueType.LIST) {
        throw bad(key, expected);
      }
      Set<Integer> ports = new LinkedHashSet<>();
      for (ConfigValue item : (ConfigList) value) {
        try {
          int port = Integer.parseInt(String.valueOf(item.unwrapped()).strip());
          if (port < 1 || port > 65535) {
            throw bad(key, expected);
          }
          ports.add(port);
        } catch (NumberFormatException e) {
          throw bad(key, expected);
        }
      }
      if (ports.size() > CaptureConfig.MAX_CAPTURE_PORTS) {
        throw bad(key, expected);
      }
      return new Ports(ports, false);
    }

    /** The http entry of the watch list, or null when there is none (HTTP events off). */
    WatchRule watch(String key) {
      ConfigValue value = config.getValue(key);
      if (value.valueType() != ConfigValueType.LIST) {
        throw bad(key, "a list of watch entries like { type = http, name = \".*\" }");
      }
      WatchRule rule = null;
      int index = 0;
      for (ConfigValue item : (ConfigList) value) {
        String itemKey = key + "." + index++;
        if (!(item instanceof ConfigObject object)) {
          throw new BadConfigException(itemKey, "= " + item.render(ConfigRenderOptions.concise()) + " " + from(item)
              + ": expected an object like { type = http, name = \".*\" }");
        }
        for (String field : object.keySet()) {
          if (!Set.of("type", "name", "field", "value", "headers").contains(field)) {
            throw new BadConfigException(itemKey + "." + field, "unknown watch setting " + from(object.get(field))
                + "; expected type, name, field, value, headers");
          }
        }
        Config entry = object.toConfig();
        Reader inner = new Reader(entry);
        String type = entry.hasPath("type") ? String.valueOf(entry.getValue("type").unwrapped()) : "";
        if (!type.equals("http")) {
          throw new BadConfigException(itemKey + ".type", "= \"" + type + "\" " + from(item)
              + ": expected http (the only event type Spanwire makes)");
        }
        if (rule != null) {
          throw new BadConfigException(itemKey, "= " + item.render(ConfigRenderOptions.concise()) + " " + from(item)
              + ": expected one entry of type http, this is the second");
        }
        List<Pattern> headers = new ArrayList<>();
        if (entry.hasPath("headers")) {
          List<String> texts;
          try {
            texts = entry.getStringList("headers");
          } catch (ConfigException e) {
            throw new BadConfigException(itemKey + ".headers", "= " + entry.getValue("headers").render(ConfigRenderOptions.concise())
                + " " + from(entry.getValue("headers")) + ": expected a list of regular expressions");
          }
          for (String h : texts) {
            headers.add(inner.compile(itemKey + ".headers", h));
          }
        }
        rule = new WatchRule(
            inner.optionalRegex(itemKey, "name"), inner.optionalRegex(itemKey, "field"),
            inner.optionalRegex(itemKey, "value"), headers);
      }
      return rule;
    }

    private Pattern optionalRegex(String prefix, String key) {
      if (!config.hasPath(key)) {
        return Pattern.compile(WatchRule.MATCH_ALL);
      }
      return compile(prefix + "." + key, String.valueOf(config.getValue(key).unwrapped()));
    }

    private Pattern compile(String key, String text) {
      try {
        return Pattern.compile(text);
      } catch (PatternSyntaxException e) {
        throw new BadConfigException(key, "= \"" + text + "\": expected a regular expression ("
            + e.getDescription() + " at index " + e.getIndex() + ")");
      }
    }

    Map<String, String> stringMap(String key) {
      ConfigValue value = config.getValue(key);
      if (!(value instanceof ConfigObject object)) {
        throw bad(key, "an object of names and values, e.g. { \"x-api-key\" = \"...\" }");
      }
      Map<String, String> map = new LinkedHashMap<>();
      object.unwrapped().forEach((k, v) -> map.put(k, String.valueOf(v)));
      return map;
    }

    Path file(String key) {
      String text = string(key);
      if (text.isEmpty()) {
        return null;
      }
      Path path;
      try {
        path = Path.of(text);
      } catch (java.nio.file.InvalidPathException e) {
        throw bad(key, "a readable PEM file");
      }
      if (!Files.isReadable(path)) {
        throw bad(key, "a readable PEM file");
      }
      return path;
    }

    /** An OTLP URL: http or https, a host, an optional port. */
    String url(String key, String text) {
      try {
        URI uri = new URI(text);
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null && !uri.getHost().isEmpty()) {
          return text;
        }
      } catch (URISyntaxException e) {
        // refused below
      }
      throw bad(key, "a URL like http://collector:4317 (http or https, a host, a port), or \"none\"");
    }

    /** Export settings, or null when the endpoint is "none" or both signals are off. */
    ExportSettings export(NamingScheme scheme) {
      String endpoint = string(Keys.OTLP_ENDPOINT);
      if (endpoint.equalsIgnoreCase("none")) {
        return null;
      }
      ExportSettings.Protocol protocol = parsed(Keys.OTLP_PROTOCOL, ExportSettings.Protocol::of);
      String base = endpoint.isEmpty()
          ? (protocol == ExportSettings.Protocol.GRPC ? ExportSettings.DEFAULT_GRPC_ENDPOINT : ExportSettings.DEFAULT_HTTP_ENDPOINT)
          : url(Keys.OTLP_ENDPOINT, endpoint);
      ExportSettings s = ExportSettings.defaults().withScheme(scheme).withEndpoint(protocol, base);
      String traces = string(Keys.OTLP_TRACES_ENDPOINT);
      String metrics = string(Keys.OTLP_METRICS_ENDPOINT);
      s = s.withEndpoints(
          traces.isEmpty() ? s.tracesEndpoint() : url(Keys.OTLP_TRACES_ENDPOINT, traces),
          metrics.isEmpty() ? s.metricsEndpoint() : url(Keys.OTLP_METRICS_ENDPOINT, metrics));
      String compression = string(Keys.OTLP_COMPRESSION);
      if (!compression.equals("gzip") && !compression.equals("none")) {
        throw bad(Keys.OTLP_COMPRESSION, "gzip or none");
      }
      s = s.withHeaders(stringMap(Keys.OTLP_HEADERS), compression, duration(Keys.OTLP_TIMEOUT, Duration.ofMillis(1)));
      s = s.withTls(file(Keys.OTLP_CERTIFICATE), file(Keys.OTLP_CLIENT_KEY), file(Keys.OTLP_CLIENT_CERTIFICATE));
      int queue = integer(Keys.OTLP_QUEUE, 1, 1 << 20);
      int batch = integer(Keys.OTLP_BATCH, 1, 1 << 20);
      if (batch > queue) {
        throw bad(Keys.OTLP_BATCH, "at most " + Keys.OTLP_QUEUE + " (" + queue + ")");
      }
      s = s.withBatching(queue, batch, duration(Keys.OTLP_DELAY, Duration.ofMillis(1)));
      s = s.withConcurrentExports(integer(Keys.OTLP_CONCURRENT, 1, ExportSettings.MAX_CONCURRENT_EXPORTS));
      // the reader's catch-up value serves the span export workers too (see SpanBatcher)
      s = s.withCatchUpNice(integer(Keys.CATCH_UP_NICE, ThreadNice.MIN, ThreadNice.MAX));
      s = s.withMetricInterval(duration(Keys.OTLP_METRIC_INTERVAL, Duration.ofMillis(100)));
      s = s.withCardinalityLimit(integer(Keys.OTLP_CARDINALITY_LIMIT, 1, 1 << 20));
      String service = string(Keys.OTLP_SERVICE_NAME);
      if (service.isBlank()) {
        throw bad(Keys.OTLP_SERVICE_NAME, "a service name");
      }
      s = s.withAgentResource(service, stringMap(Keys.OTLP_RESOURCE_ATTRIBUTES));
      boolean tracesOn = bool(Keys.OTLP_TRACES);
      boolean metricsOn = bool(Keys.OTLP_METRICS);
      return tracesOn || metricsOn ? s.withSignals(tracesOn, metricsOn) : null;
    }
  }
}
