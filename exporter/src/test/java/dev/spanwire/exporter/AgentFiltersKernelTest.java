package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import dev.spanwire.bpf.testing.Peers.Completed;
import dev.spanwire.bpf.testing.Peers.Server;
import dev.spanwire.exporter.testing.OtlpReceiver;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.Span;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The configuration's flags and rules with real traffic through the kernel: curl against a small
 * python HTTP/1.1 server on 127.0.0.1, the agent as its own process, asserted on its JSON events,
 * its table, and the spans and metrics a real OTLP receiver gets.
 */
@KernelTest
class AgentFiltersKernelTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @TempDir Path work;

  private static Server echo(Map<String, String> env) throws URISyntaxException {
    Path script = Path.of(AgentFiltersKernelTest.class.getResource("/peers/echo_server.py").toURI());
    return Peers.pythonScript(script, env);
  }

  private static Server echo() throws URISyntaxException {
    return echo(Map.of("OTEL_SERVICE_NAME", "echo"));
  }

  private static Map<String, String> export(OtlpReceiver receiver) {
    return Map.of(
        "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(),
        "OTEL_BSP_SCHEDULE_DELAY", "100",
        "OTEL_METRIC_EXPORT_INTERVAL", "500");
  }

  private Path conf(String text) throws Exception {
    Path file = Files.createTempFile(work, "spanwire", ".conf");
    Files.writeString(file, text);
    return file;
  }

  private static Completed curl(String... args) {
    List<String> command = new ArrayList<>(List.of("curl", "-s", "-o", "/dev/null"));
    command.addAll(List.of(args));
    return Peers.run(TIMEOUT, command.toArray(String[]::new)).assertSuccess();
  }

  private static Map<String, Object> attributes(Span span) {
    return OtlpReceiver.attributes(span.getAttributesList());
  }

  /** The span whose attributes (targets) contain this text. */
  private static Span spanWith(List<Span> spans, String text) {
    return spans.stream().filter(s -> attributes(s).values().stream().anyMatch(v -> String.valueOf(v).contains(text)))
        .findFirst().orElseThrow(() -> new AssertionError("no span with " + text + " in " + spans));
  }

  private static List<String> fieldNames(JsonNode event) {
    List<String> names = new ArrayList<>();
    Iterator<String> it = event.at("/body/data").fieldNames();
    it.forEachRemaining(names::add);
    return names;
  }

  @Test
  void watchedHeadersBodiesAndRedactionReachEventsAndSpans() throws Exception {
    Path binary = work.resolve("binary");
    byte[] bytes = new byte[100];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) i;
    }
    Files.write(binary, bytes);
    Path conf = conf("""
        spanwire.watch = [{ type = http, headers = ["(?i)^x-tenant:", "(?i)^authorization:", "(?i)^x-served-by:", "^Content-Type: text/"] }]
        """);
    try (OtlpReceiver receiver = OtlpReceiver.start(); Server echo = echo();
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), export(receiver),
            "--config", conf.toString(), "--output", "json", "--max-body-size", "64")) {
      Completed text = curl("-H", "X-Tenant: acme", "-H", "Authorization: Bearer s3cret", "-H", "Content-Type: text/plain",
          "--data-binary", "hello=world", echo.url("/echo?token=abc&q=1"));
      Completed raw = curl("-H", "Content-Type: application/octet-stream", "--data-binary", "@" + binary, echo.url("/bin"));
      Await.until("both sides of both exchanges", TIMEOUT,
          () -> agent.events(text.pid(), "http-resp").size() == 1 && agent.events(raw.pid(), "http-resp").size() == 1
              && agent.events(echo.pid(), "http-resp").size() == 2);

      JsonNode request = agent.events(text.pid(), "http-req").getFirst().at("/body/data");
      assertThat(request.get("http_target").asText()).isEqualTo("/echo?token=REDACTED&q=1");
      assertThat(request.get("http_request_header_x_tenant").asText()).isEqualTo("acme");
      assertThat(request.get("http_request_header_authorization").asText()).isEqualTo("REDACTED");
      assertThat(request.get("http_request_body").asText()).isEqualTo("hello=world");
      // a regex over whole lines (not one header's name): every header is kept and matched
      assertThat(request.get("http_request_header_content_type").asText()).isEqualTo("text/plain");
      JsonNode response = agent.events(text.pid(), "http-resp").getFirst().at("/body/data");
      assertThat(response.get("http_response_header_x_served_by").asText()).isEqualTo("echo");
      assertThat(response.get("http_response_body").asText()).isEqualTo("hello=world");
      assertThat(response.has("http_request_body_truncated")).isFalse();

      JsonNode binaryRequest = agent.events(raw.pid(), "http-req").getFirst().at("/body/data");
      assertThat(binaryRequest.get("http_request_body_encoding").asText()).isEqualTo("base64");
      assertThat(binaryRequest.has("http_request_header_content_type")).as("application/octet-stream is not text/").isFalse();
      assertThat(binaryRequest.get("http_request_body_truncated").asBoolean()).isTrue();
      assertThat(Base64.getDecoder().decode(binaryRequest.get("http_request_body").asText()))
          .isEqualTo(java.util.Arrays.copyOf(bytes, 64));
      assertThat(agent.lines()).noneMatch(l -> l.contains("s3cret") || l.contains("token=abc"));

      Await.until("the spans of curl and the server", TIMEOUT,
          () -> receiver.spansOf("curl").size() == 2 && receiver.spansOf("echo").size() == 2);
      for (List<Span> spans : List.of(receiver.spansOf("curl"), receiver.spansOf("echo"))) {
        Map<String, Object> span = attributes(spanWith(spans, "/echo?"));
        assertThat(span)
            .containsEntry("http_target", "/echo?token=REDACTED&q=1")
            .containsEntry("http_request_header_x_tenant", "acme")
            .containsEntry("http_request_header_authorization", "REDACTED")
            .containsEntry("http_request_header_content_type", "text/plain")
            .containsEntry("http_response_header_x_served_by", "echo")
            .containsEntry("http_request_body", "hello=world")
            .containsEntry("http_response_body", "hello=world");
        assertThat(span.values()).noneMatch(v -> String.valueOf(v).contains("s3cret"));
        assertThat(attributes(spanWith(spans, "/bin"))).containsEntry("http_request_body_truncated", true);
      }
    }
  }

  @Test
  void watchNameFieldAndValueRulesPickEventsAndFields() throws Exception {
    Path conf = conf("""
        spanwire.watch = [{ type = http, name = "http-resp", field = "^http_(method|target|status_code)$", value = "^(?!/hidden)" }]
        """);
    try (OtlpReceiver receiver = OtlpReceiver.start(); Server echo = echo();
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), export(receiver), "--config", conf.toString(), "--output", "json")) {
      Completed visible = curl(echo.url("/visible"));
      Completed hidden = curl(echo.url("/hidden"));
      Await.until("the responses", TIMEOUT,
          () -> agent.events(visible.pid(), "http-resp").size() == 1 && agent.events(hidden.pid(), "http-resp").size() == 1);
      assertThat(agent.events(visible.pid(), "http-req")).as("name keeps http-resp only").isEmpty();
      assertThat(fieldNames(agent.events(visible.pid(), "http-resp").getFirst()))
          .containsExactly("http_method", "http_target", "http_status_code");
      assertThat(fieldNames(agent.events(hidden.pid(), "http-resp").getFirst()))
          .as("a value the value regex refuses takes its field out").containsExactly("http_method", "http_status_code");

      Await.until("curl's spans", TIMEOUT, () -> receiver.spansOf("curl").size() == 2);
      Span visibleSpan = receiver.spansOf("curl").stream().filter(s -> s.getName().equals("GET /visible")).findFirst().orElseThrow();
      assertThat(attributes(visibleSpan)).containsOnlyKeys("http_method", "http_target", "http_status_code", "http_route");
      Span hiddenSpan = receiver.spansOf("curl").stream().filter(s -> s.getName().equals("GET /hidden")).findFirst().orElseThrow();
      assertThat(attributes(hiddenSpan)).containsOnlyKeys("http_method", "http_status_code", "http_route");
    }
  }

  @Test
  void captureRequestOffKeepsTheExchangeWithoutRequestDetails() throws Exception {
    try (OtlpReceiver receiver = OtlpReceiver.start(); Server echo = echo();
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), export(receiver),
            "--output", "json", "--capture-request=false", "--max-body-size", "64")) {
      Completed curl = curl("-A", "ua-test", "--data-binary", "secret-body", echo.url("/a"));
      Await.until("both responses", TIMEOUT,
          () -> agent.events(curl.pid(), "http-resp").size() == 1 && agent.events(echo.pid(), "http-resp").size() == 1);
      assertThat(agent.events().stream().filter(e -> e.at("/body/source").asText().equals("http-req"))).isEmpty();
      JsonNode data = agent.events(curl.pid(), "http-resp").getFirst().at("/body/data");
      assertThat(data.get("http_method").asText()).isEqualTo("POST");
      assertThat(data.get("http_target").asText()).isEqualTo("/a");
      assertThat(data.get("http_status_code").asInt()).isEqualTo(200);
      assertThat(data.get("http_client_duration").asDouble()).isPositive();
      assertThat(data.get("http_response_body").asText()).isEqualTo("secret-body"); // the echo's answer
      assertThat(data.has("http_user_agent")).isFalse();
      assertThat(data.has("http_host")).isFalse();
      assertThat(data.has("http_request_body")).isFalse();

      Await.until("curl's span", TIMEOUT, () -> receiver.spansOf("curl").size() == 1);
      assertThat(attributes(receiver.spansOf("curl").getFirst()))
          .containsEntry("http_status_code", 200L)
          .doesNotContainKeys("http_user_agent", "http_host", "http_request_body");
    }
  }

  @Test
  void captureResponseOffKeepsRequestEventsAndStatusOnly() throws Exception {
    Path conf = conf("spanwire.watch = [{ type = http, headers = [\"(?i)^x-served-by:\"] }]\n");
    try (OtlpReceiver receiver = OtlpReceiver.start(); Server echo = echo();
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), export(receiver),
            "--config", conf.toString(), "--output", "json", "--capture-response=false", "--max-body-size", "64")) {
      Completed curl = curl("--data-binary", "ping", echo.url("/b"));
      Await.until("curl's span", TIMEOUT, () -> receiver.spansOf("curl").size() == 1);
      assertThat(agent.events(curl.pid(), "http-req")).hasSize(1);
      assertThat(agent.events(curl.pid(), "http-req").getFirst().at("/body/data/http_request_body").asText()).isEqualTo("ping");
      assertThat(agent.events().stream().filter(e -> e.at("/body/source").asText().equals("http-resp"))).isEmpty();
      assertThat(attributes(receiver.spansOf("curl").getFirst()))
          .containsEntry("http_status_code", 200L)
          .containsEntry("http_request_body", "ping")
          .doesNotContainKeys("http_response_header_x_served_by", "http_response_body");
    }
  }

  @Test
  void minLatencyLeavesFastExchangesOutButMetricsCountThem() throws Exception {
    try (OtlpReceiver receiver = OtlpReceiver.start(); Server echo = echo();
        // only curl and the echo server: this JVM's OTLP receiver (gRPC over HTTP/2) is traffic too
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), export(receiver), "--output", "json", "--min-latency", "150",
            "--comm", "^(curl|python3)$")) {
      Completed fast = curl(echo.url("/fast"));
      Completed slow = curl(echo.url("/slow?ms=400"));
      Await.until("the slow exchange on both sides", TIMEOUT,
          () -> agent.events(slow.pid(), "http-resp").size() == 1 && agent.events(echo.pid(), "http-resp").size() == 1);
      Await.until("the server's metrics of both exchanges", TIMEOUT, () -> requestsOf(receiver, "echo") == 2);
      // the fast exchange went through the pipeline before the slow one: its absence is final
      assertThat(agent.events(fast.pid(), "http-req")).isEmpty();
      assertThat(agent.events(fast.pid(), "http-resp")).isEmpty();
      assertThat(agent.events(slow.pid(), "http-req")).as("request events come with their exchange").hasSize(1);
      assertThat(agent.events(echo.pid(), "http-resp").getFirst().at("/body/data/http_target").asText()).isEqualTo("/slow?ms=400");
      Await.until("the slow spans", TIMEOUT, () -> receiver.spansOf("curl").size() == 1 && receiver.spansOf("echo").size() == 1);
      assertThat(receiver.spans()).extracting(Span::getName).containsOnly("GET /slow");
      agent.stop();
      assertThat(agent.logText()).contains("below min latency 2");
    }
  }

  private static long requestsOf(OtlpReceiver receiver, String service) {
    return receiver.latestMetricsOf(service).stream().filter(m -> m.getName().equals("http.requests"))
        .flatMap(m -> m.getSum().getDataPointsList().stream()).mapToLong(p -> p.getAsInt()).sum();
  }

  @Test
  void commFilterAndDetectionEvents() throws Exception {
    try (Server echo = echo();
        AgentRun agent = AgentRun.start(work.resolve("agent.log"),
            "--comm", "^curl$", "--detect", "--output", "json", "--otlp-endpoint", "none")) {
      Completed curl = curl(echo.url("/c"));
      Await.until("curl's response", TIMEOUT, () -> agent.events(curl.pid(), "http-resp").size() == 1);
      JsonNode detection = agent.events(curl.pid(), "remote_protocol").getFirst();
      assertThat(detection.at("/body/sourcetype").asText()).isEqualTo("net");
      assertThat(detection.at("/body/data/protocol").asText()).isEqualTo("HTTP");
      assertThat(detection.at("/body/data/proc").asText()).isEqualTo("curl");
      assertThat(detection.at("/body/data/fd").asInt()).isPositive();
      assertThat(detection.at("/_channel").asText())
          .isEqualTo(agent.events(curl.pid(), "http-resp").getFirst().at("/_channel").asText());
      // the server's side of the same exchange went through the pipeline too, and was left out
      agent.stop();
      assertThat(agent.events().stream().filter(e -> e.at("/body/pid").asLong() == echo.pid())).isEmpty();
      assertThat(agent.logText()).containsPattern("connections ignored [1-9]");
    }
  }

  @Test
  void listedPortsAreTracedWhateverTheDetectionRegexSays() throws Exception {
    try (Server unlisted = echo(); Server listed = echo();
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), Map.of("SPANWIRE_PROTOCOL_REGEX", "^NEVER"),
            "--ports", Integer.toString(listed.port()), "--output", "json", "--otlp-endpoint", "none")) {
      Completed first = curl(unlisted.url("/u"));
      Completed second = curl(listed.url("/l"));
      Await.until("the listed port's exchange, both sides", TIMEOUT,
          () -> agent.events(second.pid(), "http-resp").size() == 1 && agent.events(listed.pid(), "http-resp").size() == 1);
      assertThat(agent.events(first.pid(), "http-resp")).isEmpty();
      assertThat(agent.events(unlisted.pid(), "http-resp")).isEmpty();
    }
  }

  @Test
  void pidColumnsAndSemconvForTheTableAndSpans() throws Exception {
    try (OtlpReceiver receiver = OtlpReceiver.start(); Server echo = echo()) {
      Map<String, String> env = new java.util.HashMap<>(export(receiver));
      env.put("SPANWIRE_SEMCONV", "otel-stable");
      try (AgentRun agent = AgentRun.start(work.resolve("agent.log"), env,
          "--output", "table", "--columns", "+user_agent", "--pid", Long.toString(echo.pid()))) {
        Completed curl = curl("-A", "table-ua", echo.url("/t"));
        Await.until("the server's row", TIMEOUT, () -> agent.lines().stream().anyMatch(l -> l.contains("/t")));
        assertThat(agent.lines().getFirst()).matches(
            "TIMESTAMP\\s+COMM\\s+PID\\s+SRC\\s+DST\\s+PROTO\\s+METHOD\\s+HOST\\s+PATH\\s+STATUS\\s+LATENCY\\s+USER_AGENT");
        String row = agent.lines().stream().filter(l -> l.contains("/t")).findFirst().orElseThrow();
        assertThat(row).contains(" " + echo.pid() + " ").endsWith("table-ua");
        assertThat(agent.lines()).noneMatch(l -> l.contains(" " + curl.pid() + " "));

        Await.until("the server's span", TIMEOUT, () -> receiver.spansOf("echo").size() == 1);
        assertThat(attributes(receiver.spansOf("echo").getFirst()))
            .containsEntry("http.request.method", "GET").containsEntry("url.path", "/t").containsEntry("user_agent.original", "table-ua");
        assertThat(receiver.spansOf("curl")).as("--pid traces the server only").isEmpty();
        Await.until("the stable duration metric", TIMEOUT,
            () -> receiver.latestMetricsOf("echo").stream().map(Metric::getName).anyMatch("http.server.request.duration"::equals));
      }
    }
  }
}
