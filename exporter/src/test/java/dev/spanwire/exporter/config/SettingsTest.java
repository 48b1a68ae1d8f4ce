package dev.spanwire.exporter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.spanwire.bpf.CaptureConfig;
import dev.spanwire.exporter.filter.FilterSettings;
import dev.spanwire.exporter.output.Column;
import dev.spanwire.exporter.output.Output;
import dev.spanwire.exporter.otel.ExportSettings;
import dev.spanwire.exporter.protocol.HeaderSelection;
import dev.spanwire.exporter.connection.PipelineSettings;
import dev.spanwire.exporter.connection.TracedConnections;
import dev.spanwire.exporter.testing.Corpora;
import dev.spanwire.semconv.NamingScheme;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layering, typed settings and every kind of refusal; no kernel needed. */
class SettingsTest {
  @TempDir Path dir;

  private Path file(String text) throws IOException {
    return Files.writeString(dir.resolve("spanwire.conf"), text);
  }

  private static Config load(Path file, Map<String, String> env, ConfigLayers.Override... flags) {
    return ConfigLayers.load(file == null ? null : ConfigLayers.file(file), Environment.overrides(env), List.of(flags));
  }

  private static ConfigLayers.Override flag(String key, String value, String flag) {
    return new ConfigLayers.Override(key, value, "command line " + flag);
  }

  private static Settings settings(Path file, Map<String, String> env, ConfigLayers.Override... flags) {
    return Settings.from(load(file, env, flags));
  }

  @Test
  void theSamplerComesFromTheSdksVariablesAndBadOnesNameThem() {
    Settings s = settings(null, Map.of("OTEL_TRACES_SAMPLER", "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG", "0.25"));
    assertThat(s.pipeline().traces().sampler()).isEqualTo(new dev.spanwire.exporter.trace.Sampler("parentbased_traceidratio", true, 0.25));
    assertThat(s.pipeline().traces().linkingWindow()).isEqualTo(Duration.ofMillis(300));
    assertThat(s.eventTraceIds()).isFalse();
    assertThatThrownBy(() -> settings(null, Map.of("OTEL_TRACES_SAMPLER", "xray")))
        .hasMessage("spanwire.traces.sampler = \"xray\" (from environment variable OTEL_TRACES_SAMPLER): expected always_on, "
            + "always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio, got \"xray\"");
    assertThatThrownBy(() -> settings(null, Map.of("OTEL_TRACES_SAMPLER_ARG", "1.5")))
        .hasMessage("spanwire.traces.sampler-arg = \"1.5\" (from environment variable OTEL_TRACES_SAMPLER_ARG): expected a number from 0 to 1");
    assertThatThrownBy(() -> settings(null, Map.of("OTEL_TRACES_SAMPLER_ARG", "half")))
        .hasMessage("spanwire.traces.sampler-arg = \"half\" (from environment variable OTEL_TRACES_SAMPLER_ARG): expected a number from 0 to 1");
  }

  @Test
  void theLinkingWindowIsBoundedAndEventIdsAreOptIn() throws IOException {
    Settings s = settings(file("spanwire { traces.linking-window = 0ms, events.trace-ids = true }"), Map.of());
    assertThat(s.pipeline().traces().linkingWindow()).isZero();
    assertThat(s.eventTraceIds()).isTrue();
    assertThatThrownBy(() -> settings(file("spanwire.traces.linking-window = 1m"), Map.of()))
        .hasMessageStartingWith("spanwire.traces.linking-window = \"1m\" (from ").hasMessageEndingWith("expected a duration of at most 10000ms");
  }

  @Test
  void referenceDefaultsAreTheComponentsOwnDefaults() {
    Settings s = settings(null, Map.of());
    CaptureConfig capture = CaptureConfig.defaults().withCapturePorts(TracedConnections.DEFAULT_PORTS);
    assertThat(s.capture()).isEqualTo(capture);
    PipelineSettings pipeline = PipelineSettings.defaults();
    assertThat(s.pipeline()).usingRecursiveComparison().withEqualsForType((a, b) -> a.pattern().equals(b.pattern()), java.util.regex.Pattern.class)
        .isEqualTo(pipeline);
    FilterSettings filter = FilterSettings.defaults();
    assertThat(s.filter()).usingRecursiveComparison().withEqualsForType((a, b) -> a.pattern().equals(b.pattern()), java.util.regex.Pattern.class)
        .isEqualTo(filter);
    assertThat(s.output()).isNull(); // auto: by the terminal
    assertThat(s.columns()).isEqualTo(Column.defaults());
    assertThat(s.export()).isEqualTo(ExportSettings.defaults());
  }

  @Test
  void flagsWinOverEnvironmentOverFileOverReference() throws IOException {
    Path conf = file("""
        spanwire.capture.pid = 11
        spanwire.capture.comm = "^from-file$"
        spanwire.semconv = otel-legacy
        spanwire.http.min-latency = 5ms
        """);
    Config config = load(conf, Map.of("SPANWIRE_PID", "22", "SPANWIRE_SEMCONV", "otel-stable"),
        flag(Keys.PID, "33", "--pid"));
    Settings s = Settings.from(config);
    assertThat(s.capture().targetPid()).isEqualTo(33);
    assertThat(s.export().scheme()).isEqualTo(NamingScheme.OTEL_STABLE);
    assertThat(s.pipeline().traced().comm().pattern()).isEqualTo("^from-file$");
    assertThat(s.filter().minLatency()).isEqualTo(Duration.ofMillis(5));
    assertThat(s.capture().captureBytes()).isEqualTo(4096);
    assertThat(s.capture().followHttp2()).as("no body capture: HTTP/2 DATA payloads go uncopied").isTrue();

    assertThat(Settings.describe(config.getValue(Keys.PID).origin())).isEqualTo("command line --pid");
    assertThat(Settings.describe(config.getValue(Keys.SEMCONV).origin())).isEqualTo("environment variable SPANWIRE_SEMCONV");
    assertThat(Settings.describe(config.getValue(Keys.COMM).origin())).isEqualTo(conf + ":2");
    assertThat(Settings.describe(config.getValue(Keys.CAPTURE_BYTES).origin())).startsWith("reference.conf:");
  }

  @Test
  void gadgetParametersBecomeTheirSettings() {
    Settings s = settings(null, Map.of(),
        flag(Keys.PORTS, "any", "--ports"),
        flag(Keys.CAPTURE_REQUEST, "false", "--capture-request"),
        flag(Keys.CAPTURE_RESPONSE, "false", "--capture-response"),
        flag(Keys.MAX_BODY_SIZE, "1000", "--max-body-size"),
        flag(Keys.MIN_LATENCY, "250ms", "--min-latency"),
        flag(Keys.COLUMNS, "+user_agent,-host", "--columns"),
        flag(Keys.OUTPUT, "json", "--output"),
        flag(Keys.OTLP_ENDPOINT, "none", "--otlp-endpoint"));
    assertThat(s.capture().allPorts()).isTrue();
    assertThat(s.pipeline().traced().allPorts()).isTrue();
    assertThat(s.filter().captureRequest()).isFalse();
    assertThat(s.filter().captureResponse()).isFalse();
    assertThat(s.pipeline().bodyCaptureBytes()).isEqualTo(1000);
    assertThat(s.capture().captureBytes()).as("the kernel copies enough for the body").isEqualTo(4096 + 1000);
    assertThat(s.capture().followHttp2()).as("bodies need their HTTP/2 DATA payloads").isFalse();
    assertThat(s.filter().minLatency()).isEqualTo(Duration.ofMillis(250));
    assertThat(s.columns()).contains(Column.USER_AGENT).doesNotContain(Column.HOST).startsWith(Column.TIMESTAMP);
    assertThat(s.output()).isEqualTo(Output.JSON);
    assertThat(s.export()).isNull();

    Settings ports = settings(null, Map.of("SPANWIRE_PORTS", "8000, 9000"));
    assertThat(ports.capture().capturePorts()).containsExactly(8000, 9000);
    assertThat(ports.pipeline().traced().ports()).containsExactlyInAnyOrder(8000, 9000);
  }

  @Test
  void watchRuleAndItsHeadersComeFromTheFile() throws IOException {
    Settings s = settings(file("""
        spanwire.watch = [{ type = http, name = "http-resp", field = "^http_(method|status_code)$", headers = ["(?i)^x-tenant:"] }]
        """), Map.of());
    assertThat(s.filter().watch().emits("http-resp")).isTrue();
    assertThat(s.filter().watch().emits("http-req")).isFalse();
    assertThat(s.filter().watch().value().pattern()).isEqualTo(".*");
    assertThat(s.filter().watch().headers()).singleElement().satisfies(h -> assertThat(h.matcher("X-Tenant: acme").find()).isTrue());
    assertThat(s.pipeline().headers()).as("the one header the regex names is kept, besides the product's")
        .isEqualTo(new HeaderSelection(
            List.of("host", "user-agent", "x-forwarded-for", "x-appscope", "traceparent", "tracestate", "x-tenant"), false));
    Settings anyLine = settings(file("""
        spanwire.watch = [{ type = http, headers = ["(?i)^x-tenant:", "acme"] }]
        """), Map.of());
    assertThat(anyLine.pipeline().headers().all()).as("a regex that may match a line of any name keeps every header").isTrue();
    Settings none = settings(file("spanwire.watch = []"), Map.of());
    assertThat(none.filter().watch()).isNull();
    assertThat(none.pipeline().headers()).isEqualTo(HeaderSelection.product());
  }

  @Test
  void aNullValueOrAPathWithANulIsRefusedByName() throws IOException {
    // found by SettingsFuzzTest: these escaped as Typesafe Config's and java.nio's exceptions
    Path nulls = file("spanwire.capture.ports = null");
    assertThatThrownBy(() -> settings(nulls, Map.of()))
        .isInstanceOf(BadConfigException.class)
        .hasMessageStartingWith("spanwire.capture.ports = null (from ")
        .hasMessageEndingWith(": expected a value (leave the setting out for its default)");
    assertThatThrownBy(() -> settings(file("spanwire.capture.backend = null"), Map.of()))
        .isInstanceOf(BadConfigException.class).hasMessageStartingWith("spanwire.capture.backend = null");
    assertThatThrownBy(() -> settings(null, Map.of(), flag(Keys.HEALTH_FILE, "/tmp/a\u0000b", "--health-file")))
        .isInstanceOf(BadConfigException.class)
        .hasMessageStartingWith("spanwire.health-file = ");
  }

  @Test
  void eachKindOfBadValueNamesKeyValueOriginAndExpectation() throws IOException {
    assertThatThrownBy(() -> settings(null, Map.of(), flag(Keys.PID, "abc", "--pid")))
        .isInstanceOf(BadConfigException.class)
        .hasMessage("spanwire.capture.pid = \"abc\" (from command line --pid): expected a whole number 0..2147483647");
    assertThatThrownBy(() -> settings(null, Map.of("SPANWIRE_MAX_BODY_SIZE", "-1")))
        .hasMessage("spanwire.http.max-body-size = \"-1\" (from environment variable SPANWIRE_MAX_BODY_SIZE): "
            + "expected a size in bytes 0..1048576 (e.g. 4096 or 64 KiB)");
    assertThatThrownBy(() -> settings(null, Map.of(), flag(Keys.CAPTURE_BYTES, "0", "--capture-bytes")))
        .hasMessage("spanwire.capture.bytes-per-syscall = \"0\" (from command line --capture-bytes): expected a whole number 1..16384");
    assertThatThrownBy(() -> settings(null, Map.of(), flag(Keys.PORTS, "80,http", "--ports")))
        .hasMessage("spanwire.capture.ports = [\"80\",\"http\"] (from command line --ports): "
            + "expected a list of at most 16 ports 1..65535, or \"any\"");
    assertThatThrownBy(() -> settings(null, Map.of(), flag(Keys.MIN_LATENCY, "soon", "--min-latency")))
        .hasMessage("spanwire.http.min-latency = \"soon\" (from command line --min-latency): expected a duration (e.g. 250ms, 10s)");
    assertThatThrownBy(() -> settings(null, Map.of(), flag(Keys.CAPTURE_REQUEST, "maybe", "--capture-request")))
        .hasMessage("spanwire.http.capture-request = \"maybe\" (from command line --capture-request): expected true or false");
    assertThatThrownBy(() -> settings(null, Map.of(), flag(Keys.COMM, "(nginx", "--comm")))
        .hasMessage("spanwire.capture.comm = \"(nginx\" (from command line --comm): expected a regular expression (Unclosed group at index 6)");
    assertThatThrownBy(() -> settings(null, Map.of(), flag(Keys.OUTPUT, "yaml", "--output")))
        .hasMessage("spanwire.output.format = \"yaml\" (from command line --output): expected table, json, none or raw");
    assertThatThrownBy(() -> settings(null, Map.of(), flag(Keys.COLUMNS, "comm,latnecy", "--columns")))
        .hasMessageStartingWith("spanwire.output.columns = [\"comm\",\"latnecy\"] (from command line --columns): expected some of [timestamp,");
    assertThatThrownBy(() -> settings(null, Map.of(), flag(Keys.SEMCONV, "otel", "--semconv")))
        .hasMessage("spanwire.semconv = \"otel\" (from command line --semconv): expected one of appscope, otel-legacy, otel-stable");
    assertThatThrownBy(() -> settings(null, Map.of(), flag(Keys.OTLP_ENDPOINT, "collector:4317", "--otlp-endpoint")))
        .hasMessage("spanwire.otlp.endpoint = \"collector:4317\" (from command line --otlp-endpoint): "
            + "expected a URL like http://collector:4317 (http or https, a host, a port), or \"none\"");
    assertThatThrownBy(() -> settings(null, Map.of("OTEL_EXPORTER_OTLP_CERTIFICATE", dir.resolve("missing.pem").toString())))
        .hasMessage("spanwire.otlp.certificate = \"" + dir.resolve("missing.pem")
            + "\" (from environment variable OTEL_EXPORTER_OTLP_CERTIFICATE): expected a readable PEM file");
    assertThatThrownBy(() -> settings(null, Map.of("OTEL_BSP_MAX_QUEUE_SIZE", "10", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "20")))
        .hasMessage("spanwire.otlp.batch.max-export-batch-size = \"20\" (from environment variable OTEL_BSP_MAX_EXPORT_BATCH_SIZE): "
            + "expected at most spanwire.otlp.batch.max-queue-size (10)");
    Path conf = file("spanwire.capture.ring-buffer-size = 3 MiB");
    assertThatThrownBy(() -> settings(conf, Map.of()))
        .hasMessage("spanwire.capture.ring-buffer-size = \"3 MiB\" (from " + conf + ":1): expected a power of two (e.g. 8 MiB)");
  }

  @Test
  void theSpanQueueIsFourTimesTheSdksUnlessSet() {
    assertThat(settings(null, Map.of()).export().maxQueueSize()).isEqualTo(8192);
    assertThat(settings(null, Map.of("OTEL_BSP_MAX_QUEUE_SIZE", "2048")).export().maxQueueSize()).isEqualTo(2048);
  }

  @Test
  void twoSpanExportsAreInFlightAtOnceUnlessSetWithinOneToSixteen() throws IOException {
    assertThat(settings(null, Map.of()).export().maxConcurrentExports()).isEqualTo(2);
    assertThat(settings(null, Map.of("SPANWIRE_OTLP_CONCURRENT_EXPORTS", "1")).export().maxConcurrentExports()).isEqualTo(1);
    Path conf = file("spanwire.otlp.batch.max-concurrent-exports = 16");
    assertThat(settings(conf, Map.of()).export().maxConcurrentExports()).isEqualTo(16);
    assertThatThrownBy(() -> settings(null, Map.of("SPANWIRE_OTLP_CONCURRENT_EXPORTS", "17")))
        .hasMessage("spanwire.otlp.batch.max-concurrent-exports = \"17\" (from environment variable SPANWIRE_OTLP_CONCURRENT_EXPORTS): "
            + "expected a whole number 1..16");
    assertThatThrownBy(() -> settings(null, Map.of("SPANWIRE_OTLP_CONCURRENT_EXPORTS", "0")))
        .hasMessageContaining("expected a whole number 1..16");
  }

  @Test
  void theReadersCatchUpNiceValueIsWithinLinuxsRange() {
    assertThat(settings(null, Map.of()).capture().catchUpNice()).isEqualTo(-10);
    assertThat(settings(null, Map.of("SPANWIRE_CATCH_UP_NICE", "0")).capture().catchUpNice()).isZero();
    assertThat(settings(null, Map.of("SPANWIRE_CATCH_UP_NICE", "-20")).capture().catchUpNice()).isEqualTo(-20);
    assertThatThrownBy(() -> settings(null, Map.of("SPANWIRE_CATCH_UP_NICE", "-21")))
        .hasMessage("spanwire.capture.catch-up-nice = \"-21\" (from environment variable SPANWIRE_CATCH_UP_NICE): "
            + "expected a whole number -20..19");
  }

  @Test
  void unknownKeysAndMalformedWatchEntriesAreRefused() throws IOException {
    Path typo = file("spanwire { capture { prots = [80] } }");
    assertThatThrownBy(() -> settings(typo, Map.of()))
        .hasMessage("spanwire.capture.prots: unknown setting (from " + typo + ":1); "
            + "see reference.conf or 'spanwire config' for the settings there are");
    Path type = file("spanwire.capture.pid = [1, 2]");
    assertThatThrownBy(() -> settings(type, Map.of()))
        .hasMessage("spanwire.capture.pid = [1,2] (from " + type + ":1): expected a whole number 0..2147483647");
    Path watchType = file("spanwire.watch = [{ type = file, name = \".*\" }]");
    assertThatThrownBy(() -> settings(watchType, Map.of()))
        .hasMessage("spanwire.watch.0.type = \"file\" (from " + watchType + ":1): expected http (the only event type Spanwire makes)");
    Path watchKey = file("spanwire.watch = [{ type = http, fields = \".*\" }]");
    assertThatThrownBy(() -> settings(watchKey, Map.of()))
        .hasMessage("spanwire.watch.0.fields: unknown watch setting (from " + watchKey + ":1); expected type, name, field, value, headers");
    Path watchRegex = file("spanwire.watch = [{ type = http, headers = [\"[x\"] }]");
    assertThatThrownBy(() -> settings(watchRegex, Map.of()))
        .hasMessage("spanwire.watch.0.headers = \"[x\": expected a regular expression (Unclosed character class at index 1)");
    Path twice = file("spanwire.watch = [{ type = http }, { type = http }]");
    assertThatThrownBy(() -> settings(twice, Map.of()))
        .hasMessage("spanwire.watch.1 = {\"type\":\"http\"} (from " + twice + ":1): expected one entry of type http, this is the second");
    Path broken = file("spanwire { capture = ");
    assertThatThrownBy(() -> ConfigLayers.file(broken)).hasMessageStartingWith("--config: cannot parse " + broken);
    assertThatThrownBy(() -> ConfigLayers.file(dir.resolve("nope.conf"))).hasMessage("--config: no such file: " + dir.resolve("nope.conf"));
  }

  @Test
  void theShippedApplicationConfIsValid() {
    Path shipped = Corpora.projectDir().resolve("config/application.conf");
    Settings s = settings(shipped, Map.of());
    assertThat(s.output()).isEqualTo(Output.TABLE);
    assertThat(s.export().metricInterval()).isEqualTo(Duration.ofSeconds(15));
    assertThat(s.filter().watch().headers()).isNotEmpty();
    // every key it sets is one reference.conf documents (checked by Settings too)
    Config file = ConfigFactory.parseFile(shipped.toFile());
    file.entrySet().forEach(e -> assertThat(ConfigLayers.reference().hasPathOrNull(e.getKey().replaceAll("\\.\"?[^.]*\"?$", "")))
        .as(e.getKey()).isTrue());
  }
}
