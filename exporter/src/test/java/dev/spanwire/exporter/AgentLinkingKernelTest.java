package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import dev.spanwire.bpf.testing.Peers.Server;
import dev.spanwire.exporter.testing.OtlpReceiver;
import io.opentelemetry.proto.trace.v1.Span;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole traces without code changes: curl -> nginx (proxy_pass) -> python, every request with a
 * unique path, each span's parent classified as correct, orphan or wrong against the chain the
 * request really took.
 */
@KernelTest
class AgentLinkingKernelTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final int REQUESTS = 10;

  private static String target(Span span) {
    return String.valueOf(OtlpReceiver.attributes(span.getAttributesList()).get("http_target"));
  }

  private static Span only(List<Span> spans, String target, Span.SpanKind kind) {
    List<Span> found = spans.stream().filter(s -> target(s).equals(target) && s.getKind() == kind).toList();
    assertThat(found).as("%s %s", kind, target).hasSize(1);
    return found.getFirst();
  }

  /** The parent relation of {@code child} to {@code parent}: correct, orphan (none) or wrong. */
  private static String link(Span child, Span parent) {
    if (child.getParentSpanId().isEmpty()) {
      return "orphan";
    }
    return child.getParentSpanId().equals(parent.getSpanId()) && child.getTraceId().equals(parent.getTraceId())
        ? "correct" : "wrong";
  }

  @Test
  void curlNginxPythonIsOneTraceOfFourSpans(@TempDir Path www, @TempDir Path backendFiles, @TempDir Path work)
      throws Exception {
    for (int i = 0; i < REQUESTS; i++) {
      Files.writeString(backendFiles.resolve("r" + i + ".txt"), "backend " + i + "\n");
    }
    try (OtlpReceiver receiver = OtlpReceiver.start();
        Server backend = Peers.pythonHttpServer(backendFiles, "127.0.0.1", Map.of("OTEL_SERVICE_NAME", "backend"));
        Server nginx = Peers.nginx(www, work, false,
            "location /api/ { proxy_pass http://127.0.0.1:" + backend.port() + "/; proxy_http_version 1.1; }", null)) {
      ProcessBuilder builder = AgentProcess.builder(List.of(), "--output", "none", "--comm", "^(curl|nginx|python3)$");
      builder.environment().putAll(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(), "OTEL_BSP_SCHEDULE_DELAY", "200"));
      Process agent = AgentProcess.start(builder.redirectOutput(ProcessBuilder.Redirect.DISCARD), work.resolve("agent.log"));
      try {
        Await.until("the agent to capture", TIMEOUT, () -> log(work).contains("capturing on"), () -> log(work));
        for (int i = 0; i < REQUESTS; i++) {
          Peers.run(TIMEOUT, "curl", "-sS", "-o", "/dev/null", nginx.url("/api/r" + i + ".txt")).assertSuccess();
        }
        Await.until("four spans per request", TIMEOUT,
            () -> receiver.spansOf("backend").size() >= REQUESTS && receiver.spansOf("curl").size() >= REQUESTS
                && receiver.spansOf("nginx").size() >= 2 * REQUESTS,
            () -> "backend " + receiver.spansOf("backend").size() + ", curl " + receiver.spansOf("curl").size()
                + ", nginx " + receiver.spansOf("nginx").size() + "\n" + log(work));
        // per link: correct / orphan / wrong, over all requests
        Map<String, Map<String, Integer>> table = new java.util.TreeMap<>();
        for (int i = 0; i < REQUESTS; i++) {
          String front = "/api/r" + i + ".txt";
          String back = "/r" + i + ".txt";
          Span curl = only(receiver.spansOf("curl"), front, Span.SpanKind.SPAN_KIND_CLIENT);
          Span nginxServer = only(receiver.spansOf("nginx"), front, Span.SpanKind.SPAN_KIND_SERVER);
          Span nginxClient = only(receiver.spansOf("nginx"), back, Span.SpanKind.SPAN_KIND_CLIENT);
          Span python = only(receiver.spansOf("backend"), back, Span.SpanKind.SPAN_KIND_SERVER);
          assertThat(curl.getParentSpanId().isEmpty()).as("curl's span is the root").isTrue();
          table.computeIfAbsent("1 curl -> nginx (processes)", k -> new java.util.TreeMap<>())
              .merge(link(nginxServer, curl), 1, Integer::sum);
          table.computeIfAbsent("2 nginx -> nginx (thread)", k -> new java.util.TreeMap<>())
              .merge(link(nginxClient, nginxServer), 1, Integer::sum);
          table.computeIfAbsent("3 nginx -> python (processes)", k -> new java.util.TreeMap<>())
              .merge(link(python, nginxClient), 1, Integer::sum);
        }
        System.out.println("links of " + REQUESTS + " requests curl -> nginx -> python: " + table);
        assertThat(table.values()).as("no wrong parent anywhere: %s", table).allMatch(m -> !m.containsKey("wrong"));
        // one thread reads the request and writes the call: always certain
        assertThat(table.get("2 nginx -> nginx (thread)")).isEqualTo(Map.of("correct", REQUESTS));
      } finally {
        agent.destroy();
        agent.waitFor();
      }
    }
  }

  private static String log(Path work) {
    try {
      Path log = work.resolve("agent.log");
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (java.io.IOException e) {
      return "";
    }
  }
}
