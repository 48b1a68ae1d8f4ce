package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import dev.spanwire.bpf.testing.Peers.Completed;
import dev.spanwire.bpf.testing.Peers.Server;
import dev.spanwire.exporter.testing.OtlpReceiver;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent process exporting what real programs do to a real OTLP receiver. */
@KernelTest
class AgentOtlpKernelTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private static Process startAgent(Path log, Map<String, String> env, String... args) {
    ProcessBuilder builder = AgentProcess.builder(List.of(), args);
    builder.environment().putAll(env);
    Process agent = AgentProcess.start(builder.redirectOutput(ProcessBuilder.Redirect.DISCARD), log);
    Await.until("the agent to capture", TIMEOUT, () -> read(log).contains("capturing on"), () -> read(log));
    return agent;
  }

  private static String read(Path log) {
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      return "";
    }
  }

  @Test
  void spansAndMetricsOfEveryTracedProcessArriveWithTheirServiceNames(@TempDir Path www, @TempDir Path work) throws Exception {
    Files.writeString(www.resolve("index.html"), "hello\n");
    try (OtlpReceiver receiver = OtlpReceiver.start();
        Server nginx = Peers.nginx(www, work, false, "");
        Server python = Peers.pythonHttpServer(www, "127.0.0.1", Map.of("OTEL_SERVICE_NAME", "py-server"))) {
      Process agent = startAgent(work.resolve("agent.log"), Map.of(
          "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(),
          "OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=k1",
          "OTEL_BSP_SCHEDULE_DELAY", "200",
          // the programs under test only: this JVM's OTLP receiver (gRPC) is a traced server too
          "OTEL_METRIC_EXPORT_INTERVAL", "1000"), "--output", "none", "--comm", "^(curl|nginx|python3)$");
      try {
        Completed curl = Peers.run(TIMEOUT, "curl", "-s", "-o", "/dev/null", nginx.url("/index.html?a=1")).assertSuccess();
        Completed client = Peers.run(TIMEOUT, Map.of("OTEL_SERVICE_NAME", "py-client"), Peers.python(), "-c",
            // the service name is read from /proc: the client stays a moment, since a process that has
            // exited before the agent reads it (possible in the agent's first second) is named after
            // its executable (README, "Services")
            "import urllib.request, time; urllib.request.urlopen('" + python.url("/index.html") + "').read(); time.sleep(0.5)")
            .assertSuccess();

        Await.until("spans of nginx, curl, py-server and py-client", TIMEOUT,
            () -> !receiver.spansOf("nginx").isEmpty() && !receiver.spansOf("curl").isEmpty()
                && !receiver.spansOf("py-server").isEmpty() && !receiver.spansOf("py-client").isEmpty(),
            () -> "(services " + receiver.resourceSpans().stream()
                .map(r -> OtlpReceiver.attributes(r.getResource().getAttributesList()).get("service.name")).toList() + ")");

        Span server = receiver.spansOf("nginx").getFirst();
        assertThat(server.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
        assertThat(server.getName()).isEqualTo("GET /index.html");
        assertThat(OtlpReceiver.attributes(server.getAttributesList()))
            .containsEntry("http_target", "/index.html?a=1").containsEntry("http_status_code", 200L)
            .containsEntry("net_host_port", (long) nginx.port());
        Span curlSpan = receiver.spansOf("curl").getFirst();
        assertThat(curlSpan.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_CLIENT);
        assertThat(curlSpan.getStartTimeUnixNano()).isLessThanOrEqualTo(server.getStartTimeUnixNano());
        assertThat(curlSpan.getEndTimeUnixNano()).isGreaterThanOrEqualTo(server.getEndTimeUnixNano());
        assertThat(Math.abs(curlSpan.getStartTimeUnixNano() / 1_000_000 - System.currentTimeMillis())).isLessThan(60_000);
        var curlResource = receiver.resourceSpans().stream()
            .map(r -> OtlpReceiver.attributes(r.getResource().getAttributesList()))
            .filter(a -> "curl".equals(a.get("service.name"))).findFirst().orElseThrow();
        assertThat(curlResource).containsEntry("process.pid", curl.pid())
            .containsEntry("process.executable.name", "curl")
            .containsEntry("process.command_line", "curl -s -o /dev/null " + nginx.url("/index.html?a=1"));
        assertThat(receiver.spansOf("py-server").getFirst().getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
        assertThat(receiver.spansOf("py-client").getFirst().getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_CLIENT);
        assertThat(receiver.apiKeys()).contains("k1");

        Await.until("metrics of nginx and py-server", TIMEOUT,
            () -> !receiver.latestMetricsOf("nginx").isEmpty() && !receiver.latestMetricsOf("py-server").isEmpty()
                && !receiver.latestMetricsOf("spanwire").isEmpty());
        Metric requests = receiver.latestMetricsOf("nginx").stream().filter(m -> m.getName().equals("http.requests")).findFirst().orElseThrow();
        assertThat(requests.getSum().getDataPoints(0).getAsInt()).isEqualTo(1);
        assertThat(receiver.latestMetricsOf("py-server")).extracting(Metric::getName).contains("http.server.duration");
        assertThat(receiver.latestMetricsOf("spanwire")).extracting(Metric::getName)
            .contains("spanwire.events.received", "spanwire.events.lost", "spanwire.exchanges", "spanwire.spans.exported");
      } finally {
        agent.destroy();
        assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
      }
    }
  }

  /**
   * TLS material that is no certificate: the exporters are made on their own thread while the
   * kernel verifies the programs, and what fails there still stops the start with the SDK's reason
   * (no capture left running, no hang).
   */
  @Test
  void aCertificateThatIsNoneStopsTheStartWithItsReason(@TempDir Path work) throws Exception {
    Path pem = Files.writeString(work.resolve("not-a-certificate.pem"), "not a certificate\n");
    Path log = work.resolve("agent.log");
    ProcessBuilder builder = AgentProcess.builder(List.of(), "--output", "none", "--otlp-endpoint", "https://127.0.0.1:1");
    builder.environment().put("OTEL_EXPORTER_OTLP_CERTIFICATE", pem.toString());
    Process bad = AgentProcess.start(builder.redirectOutput(ProcessBuilder.Redirect.DISCARD), log);
    assertThat(bad.waitFor(TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)).as(read(log)).isTrue();
    assertThat(bad.exitValue()).as(read(log)).isEqualTo(1);
    assertThat(read(log)).contains("spanwire: Error creating X509TrustManager").doesNotContain("capturing on");
  }

  @Test
  void spansMadeJustBeforeSigtermArrive(@TempDir Path www, @TempDir Path work) throws Exception {
    Files.writeString(www.resolve("index.html"), "hello\n");
    try (OtlpReceiver receiver = OtlpReceiver.start();
        Server nginx = Peers.nginx(www, work, false, "")) {
      // batches wait 10 minutes: only shutdown's flush can deliver them
      Path log = work.resolve("agent.log");
      ProcessBuilder builder = AgentProcess.builder(List.of(), "--output", "json");
      builder.environment().putAll(Map.of(
          "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(),
          "OTEL_BSP_SCHEDULE_DELAY", "600000",
          "OTEL_METRIC_EXPORT_INTERVAL", "600000"));
      Process agent = AgentProcess.start(builder, log);
      java.util.List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
      Thread.ofPlatform().daemon().start(() -> agent.inputReader().lines().forEach(events::add));
      Await.until("the agent to capture", TIMEOUT, () -> read(log).contains("capturing on"), () -> read(log));
      Peers.run(TIMEOUT, "curl", "-s", "-o", "/dev/null", nginx.url("/last")).assertSuccess();
      // both sides went through the pipeline (their JSON events are out) before the signal
      Await.until("both http-resp events of /last", TIMEOUT,
          () -> events.stream().filter(e -> e.contains("\"http-resp\"") && e.contains("\"/last\"")).count() == 2);
      agent.destroy();
      assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(read(work.resolve("agent.log"))).contains("exchanges 2");
      assertThat(receiver.spans()).extracting(Span::getName).filteredOn("GET /last"::equals).hasSize(2);
      assertThat(receiver.latestMetricsOf("nginx")).isNotEmpty();
    }
  }

  @Test
  void aRequestInFlightAtSigtermIsReportedUnanswered(@TempDir Path work) throws Exception {
    Path script = Path.of(AgentOtlpKernelTest.class.getResource("/peers/echo_server.py").toURI());
    try (OtlpReceiver receiver = OtlpReceiver.start();
        Server server = Peers.pythonScript(script, Map.of("OTEL_SERVICE_NAME", "slow-server"))) {
      Path log = work.resolve("agent.log");
      ProcessBuilder builder = AgentProcess.builder(List.of(), "--output", "json", "--pid", Long.toString(server.pid()));
      builder.environment().putAll(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(), "OTEL_BSP_SCHEDULE_DELAY", "600000"));
      Process agent = AgentProcess.start(builder, log);
      java.util.List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
      Thread.ofPlatform().daemon().start(() -> agent.inputReader().lines().forEach(events::add));
      Await.until("the agent to capture", TIMEOUT, () -> read(log).contains("capturing on"), () -> read(log));
      // a 5 s request: the agent is stopped while the server still works on it
      Process curl = Peers.start(List.of("curl", "-s", "-o", "/dev/null", server.url("/slow?ms=5000")));
      try {
        Await.until("the server's http-req event", TIMEOUT,
            () -> events.stream().anyMatch(e -> e.contains("\"http-req\"") && e.contains("/slow?ms=5000")));
        agent.destroy();
        assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(read(log)).contains("unanswered 1");
        List<Span> spans = receiver.spansOf("slow-server");
        assertThat(spans).hasSize(1);
        assertThat(spans.getFirst().getName()).isEqualTo("GET /slow");
        assertThat(spans.getFirst().getStatus().getCode()).isEqualTo(io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR);
      } finally {
        curl.destroyForcibly();
      }
    }
  }
}
