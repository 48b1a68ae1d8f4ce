package dev.spanwire.exporter.otel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OtlpEnvironmentTest {
  private static ExportSettings apply(Map<String, String> env) {
    return OtlpEnvironment.apply(ExportSettings.defaults(), env);
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
  void headersCertificatesBatchingAndSignals() {
    ExportSettings s = apply(Map.of(
        "OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b,tenant=t1",
        "OTEL_EXPORTER_OTLP_CERTIFICATE", "/etc/ca.pem",
        "OTEL_BSP_MAX_QUEUE_SIZE", "100",
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "10",
        "OTEL_BSP_SCHEDULE_DELAY", "250",
        "OTEL_METRIC_EXPORT_INTERVAL", "15000",
        "OTEL_TRACES_EXPORTER", "none"));
    assertThat(s.headers()).containsExactly(Map.entry("api-key", "a b"), Map.entry("tenant", "t1"));
    assertThat(s.certificate()).isEqualTo(Path.of("/etc/ca.pem"));
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
        .hasMessage("unknown OTLP protocol 'http/json', expected grpc or http/protobuf");
    assertThatThrownBy(() -> apply(Map.of("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")))
        .hasMessage("OTEL_EXPORTER_OTLP_TIMEOUT: expected a whole number, got '10s'");
    assertThatThrownBy(() -> apply(Map.of("OTEL_EXPORTER_OTLP_HEADERS", "novalue")))
        .hasMessage("OTEL_EXPORTER_OTLP_HEADERS: expected key=value pairs separated by commas, got 'novalue'");
    assertThatThrownBy(() -> apply(Map.of("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")))
        .hasMessage("compression must be gzip or none, got 'zstd'");
  }
}
