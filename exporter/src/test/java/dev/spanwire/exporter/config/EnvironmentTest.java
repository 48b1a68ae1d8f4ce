package dev.spanwire.exporter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spanwire.exporter.otel.ExportSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SDK's standard OTEL_* variables, as the agent reads them into its export settings. */
class EnvironmentTest {
  private static ExportSettings apply(Map<String, String> env) {
    return Settings.from(ConfigLayers.load(null, Environment.overrides(env), List.of())).export();
  }

  @Test
  void defaultsAreGrpcToLocalhostWithGzip() {
    ExportSettings s = apply(Map.of());
    assertThat(s.protocol()).isEqualTo(ExportSettings.Protocol.GRPC);
    assertThat(s.tracesEndpoint()).isEqualTo("http://localhost:4317");
    assertThat(s.compression()).isEqualTo("gzip");
    assertThat(s.agentServiceName()).isEqualTo("spanwire");
  }

  @Test
  void httpProtobufAppendsSignalPathsToTheGenericEndpoint() {
    ExportSettings s = apply(Map.of("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT", "https://otel.example:4318/"));
    assertThat(s.tracesEndpoint()).isEqualTo("https://otel.example:4318/v1/traces");
    assertThat(s.metricsEndpoint()).isEqualTo("https://otel.example:4318/v1/metrics");
    assertThat(apply(Map.of("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")).tracesEndpoint()).isEqualTo("http://localhost:4318/v1/traces");
  }

  @Test
  void signalSpecificVariablesWin() {
    ExportSettings s = apply(Map.of(
        "OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317",
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://metrics:4317",
        "OTEL_EXPORTER_OTLP_TIMEOUT", "3000",
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1500",
        "OTEL_EXPORTER_OTLP_COMPRESSION", "none"));
    assertThat(s.tracesEndpoint()).isEqualTo("http://collector:4317");
    assertThat(s.metricsEndpoint()).isEqualTo("http://metrics:4317");
    assertThat(s.timeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(s.compression()).isEqualTo("none");
  }

  @Test
  void headersCertificatesBatchingAndSignals(@TempDir Path dir) throws IOException {
    Path ca = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
    ExportSettings s = apply(Map.of(
        "OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b,tenant=t1",
        "OTEL_EXPORTER_OTLP_CERTIFICATE", ca.toString(),
        "OTEL_BSP_MAX_QUEUE_SIZE", "100",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "10",
        "OTEL_BSP_SCHEDULE_DELAY", "250",
        "OTEL_METRIC_EXPORT_INTERVAL", "15000",
        "OTEL_TRACES_EXPORTER", "none"));
    assertThat(s.headers()).containsExactly(Map.entry("api-key", "a b"), Map.entry("tenant", "t1"));
    assertThat(s.certificate()).isEqualTo(ca);
    assertThat(s.maxQueueSize()).isEqualTo(100);
    assertThat(s.maxExportBatchSize()).isEqualTo(10);
    assertThat(s.scheduleDelay()).isEqualTo(Duration.ofMillis(250));
    assertThat(s.metricInterval()).isEqualTo(Duration.ofSeconds(15));
    assertThat(s.traces()).isFalse();
    assertThat(s.metrics()).isTrue();
    assertThat(s.toString()).contains("api-key").doesNotContain("a b");
  }

  @Test
  void agentResourceFromServiceNameAndResourceAttributes() {
    ExportSettings s = apply(Map.of("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,service.name=from-attrs"));
    assertThat(s.agentServiceName()).isEqualTo("from-attrs");
    assertThat(s.agentResourceAttributes()).containsExactly(Map.entry("deployment.environment", "prod"));
    assertThat(apply(Map.of("OTEL_SERVICE_NAME", "edge-agent", "OTEL_RESOURCE_ATTRIBUTES", "service.name=x")).agentServiceName())
        .isEqualTo("edge-agent");
  }

  @Test
  void badValuesNameTheVariable() {
    assertThatThrownBy(() -> apply(Map.of("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")))
        .hasMessage("spanwire.otlp.protocol = \"http/json\" (from environment variable OTEL_EXPORTER_OTLP_PROTOCOL): "
            + "expected grpc or http/protobuf");
    assertThatThrownBy(() -> apply(Map.of("OTEL_EXPORTER_OTLP_TIMEOUT", "ten")))
        .hasMessage("spanwire.otlp.timeout = \"ten\" (from environment variable OTEL_EXPORTER_OTLP_TIMEOUT): "
            + "expected a duration (e.g. 250ms, 10s)");
    assertThatThrownBy(() -> apply(Map.of("OTEL_EXPORTER_OTLP_HEADERS", "novalue")))
        .hasMessage("OTEL_EXPORTER_OTLP_HEADERS: expected key=value pairs separated by commas, got 'novalue'");
    assertThatThrownBy(() -> apply(Map.of("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")))
        .hasMessage("spanwire.otlp.compression = \"zstd\" (from environment variable OTEL_EXPORTER_OTLP_COMPRESSION): "
            + "expected gzip or none");
  }

  @Test
  void timesWithoutUnitAreMillisecondsAsTheSdkReadsThem() {
    assertThat(apply(Map.of("OTEL_EXPORTER_OTLP_TIMEOUT", "1500")).timeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(apply(Map.of("OTEL_BSP_SCHEDULE_DELAY", "250")).scheduleDelay()).isEqualTo(Duration.ofMillis(250));
  }

  @Test
  void bothSignalsOffOrEndpointNoneTurnsExportOff() {
    assertThat(apply(Map.of("OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none"))).isNull();
    assertThat(apply(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "none"))).isNull();
  }
}
