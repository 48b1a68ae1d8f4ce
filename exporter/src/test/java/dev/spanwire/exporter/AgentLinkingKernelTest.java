package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import dev.spanwire.bpf.testing.Peers.Server;
import dev.spanwire.exporter.testing.OtlpReceiver;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.context.Context;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import io.opentelemetry.sdk.trace.samplers.SamplingDecision;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole traces without code changes, scenario by scenario: every request carries a unique path,
 * and each span's parent is classified as correct, orphan (none where one exists) or wrong against
 * the chain the request really took. Wrong is never allowed; cross-process links and thread-per-
 * request servers must be all correct; what a thread-pool handoff or an event loop leaves unlinked
 * is printed. {@code bench/links.sh} runs the same with more requests ({@code
 * -Dspanwire.links.requests}, {@code -Dspanwire.links.concurrency}) and tabulates the lines this
 * prints.
 */
@KernelTest
class AgentLinkingKernelTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(90);
  /** Requests per scenario. */
  private static final int REQUESTS = Integer.getInteger("spanwire.links.requests", 16);
  /** Requests at once in the concurrent scenarios. */
  private static final int CONCURRENCY = Integer.getInteger("spanwire.links.concurrency", 16);

  /** One span of a request's chain: its service, kind and target; its parent an earlier hop (-1: the root). */
  private record Hop(String service, Span.SpanKind kind, IntFunction<String> target, int parent) {}

  private static Hop client(String service, IntFunction<String> target, int parent) {
    return new Hop(service, Span.SpanKind.SPAN_KIND_CLIENT, target, parent);
  }

  private static Hop server(String service, IntFunction<String> target, int parent) {
    return new Hop(service, Span.SpanKind.SPAN_KIND_SERVER, target, parent);
  }

  private static Path peer(String name) {
    try {
      return Path.of(AgentLinkingKernelTest.class.getResource("/peers/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String target(Span span) {
    return String.valueOf(OtlpReceiver.attributes(span.getAttributesList()).get("http_target"));
  }

  /** The parent relation of {@code child} to {@code parent}: correct, orphan (none) or wrong. */
  private static String verdict(Span child, Span parent) {
    if (child.getParentSpanId().isEmpty()) {
      return "orphan";
    }
    return child.getParentSpanId().equals(parent.getSpanId()) && child.getTraceId().equals(parent.getTraceId())
        ? "correct" : "wrong";
  }

  private static AgentRun agent(Path work, OtlpReceiver receiver, Map<String, String> env, String... args) {
    Map<String, String> all = new HashMap<>(Map.of(
        "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(), "OTEL_BSP_SCHEDULE_DELAY", "200"));
    all.putAll(env);
    List<String> arguments = new ArrayList<>(List.of("--output", "none"));
    arguments.addAll(List.of(args));
    return AgentRun.start(work.resolve("agent.log"), all, arguments.toArray(String[]::new));
  }

  private static List<String> urls(Server front, IntFunction<String> path) {
    return IntStream.range(0, REQUESTS).mapToObj(i -> front.url(path.apply(i))).toList();
  }

  /** One curl per request, one after the other: a new connection each. */
  private static void curlEach(List<String> urls, String... options) {
    for (String url : urls) {
      List<String> command = new ArrayList<>(List.of("curl", "-sS", "-o", "/dev/null"));
      command.addAll(List.of(options));
      command.add(url);
      Peers.run(TIMEOUT, command.toArray(String[]::new)).assertSuccess();
    }
  }

  /** One curl for all requests: one keep-alive connection, or {@code parallel} connections at once. */
  private static void curlAll(List<String> urls, int parallel, String... options) {
    List<String> command = new ArrayList<>(List.of("curl", "-sS"));
    command.addAll(List.of(options));
    if (parallel > 1) {
      command.addAll(List.of("--parallel", "--parallel-immediate", "--parallel-max", Integer.toString(parallel)));
    }
    for (String url : urls) {
      command.addAll(List.of("-o", "/dev/null", url));
    }
    Peers.run(TIMEOUT, command.toArray(String[]::new)).assertSuccess();
  }

  /**
   * Waits for every span of every request's chain, then classifies each link; prints the table
   * and returns it, per link: verdict to count.
   */
  private static Map<String, Map<String, Integer>> links(
      String scenario, OtlpReceiver receiver, AgentRun agent, List<Hop> chain) {
    Await.until(scenario + ": every span of " + REQUESTS + " requests", TIMEOUT,
        () -> chain.stream().allMatch(hop -> find(receiver, hop).size() == REQUESTS),
        () -> chain.stream().map(hop -> hop.service() + " " + hop.kind() + " " + find(receiver, hop).size())
            .collect(Collectors.joining(", ")) + "\n" + agent.logText());
    Map<String, Map<String, Integer>> table = new TreeMap<>();
    List<Map<Integer, Span>> byHop = chain.stream().map(hop -> find(receiver, hop)).toList();
    for (int i = 0; i < REQUESTS; i++) {
      for (int h = 0; h < chain.size(); h++) {
        Hop hop = chain.get(h);
        Span span = byHop.get(h).get(i);
        if (hop.parent() < 0) {
          assertThat(span.getParentSpanId().isEmpty()).as("%s: %s starts the trace", scenario, hop).isTrue();
          continue;
        }
        Hop parentHop = chain.get(hop.parent());
        String link = h + " " + parentHop.service() + " -> " + hop.service()
            + (parentHop.service().equals(hop.service()) ? " (thread)" : " (processes)");
        table.computeIfAbsent(link, k -> new TreeMap<>()).merge(verdict(span, byHop.get(hop.parent()).get(i)), 1, Integer::sum);
      }
    }
    System.out.println("links [" + scenario + "] of " + REQUESTS + " requests: " + table);
    assertThat(table.values()).as("%s: no wrong parent anywhere: %s", scenario, table).allMatch(m -> !m.containsKey("wrong"));
    // across processes the request itself is matched: every one is certain
    table.forEach((link, verdicts) -> {
      if (link.endsWith("(processes)")) {
        assertThat(verdicts).as("%s: %s", scenario, link).isEqualTo(Map.of("correct", REQUESTS));
      }
    });
    return table;
  }

  /** The spans of one hop, by request number (each request's target is unique). */
  private static Map<Integer, Span> find(OtlpReceiver receiver, Hop hop) {
    Map<String, Integer> number = new HashMap<>();
    for (int i = 0; i < REQUESTS; i++) {
      number.put(hop.target().apply(i), i);
    }
    Map<Integer, Span> found = new HashMap<>();
    for (Span span : receiver.spansOf(hop.service())) {
      Integer i = number.get(target(span));
      if (i != null && span.getKind() == hop.kind()) {
        assertThat(found.put(i, span)).as("one %s span of %s", hop, target(span)).isNull();
      }
    }
    return found;
  }

  private static Map<String, Integer> thread(Map<String, Map<String, Integer>> table) {
    return table.entrySet().stream().filter(e -> e.getKey().endsWith("(thread)")).map(Map.Entry::getValue)
        .findFirst().orElseThrow();
  }

  @Test
  void curlToAPythonServerWithAndWithoutKeepAlive(@TempDir Path work) throws Exception {
    try (OtlpReceiver receiver = OtlpReceiver.start();
        Server backend = Peers.server(List.of(Peers.python(), "-u", peer("linking_peer.py").toString(), "backend"),
            Map.of("OTEL_SERVICE_NAME", "backend"));
        AgentRun agent = agent(work, receiver, Map.of())) {
      curlEach(urls(backend, i -> "/one/r" + i));
      links("curl -> python, a connection each", receiver, agent,
          List.of(client("curl", i -> "/one/r" + i, -1), server("backend", i -> "/one/r" + i, 0)));
      curlAll(urls(backend, i -> "/kept/r" + i), 1);
      links("curl -> python, one keep-alive connection", receiver, agent,
          List.of(client("curl", i -> "/kept/r" + i, -1), server("backend", i -> "/kept/r" + i, 0)));
    }
  }

  private static Server nginxProxy(Path www, Path work, int backendPort) {
    return Peers.nginx(www, work, false,
        "location /api/ { proxy_pass http://backend/; proxy_http_version 1.1; proxy_set_header Connection \"\"; }",
        null, false, "upstream backend { server 127.0.0.1:" + backendPort + "; keepalive 16; }");
  }

  private static List<Hop> nginxChain(String prefix) {
    return List.of(
        client("curl", i -> "/api" + prefix + "/r" + i, -1),
        server("nginx", i -> "/api" + prefix + "/r" + i, 0),
        client("nginx", i -> prefix + "/r" + i, 1),
        server("backend", i -> prefix + "/r" + i, 2));
  }

  @Test
  void curlNginxPythonOneAtATimeAndConcurrently(@TempDir Path www, @TempDir Path work) throws Exception {
    try (OtlpReceiver receiver = OtlpReceiver.start();
        Server backend = Peers.server(List.of(Peers.python(), "-u", peer("linking_peer.py").toString(), "backend"),
            Map.of("OTEL_SERVICE_NAME", "backend"));
        Server nginx = nginxProxy(www, work, backend.port());
        AgentRun agent = agent(work, receiver, Map.of())) {
      curlEach(urls(nginx, i -> "/api/c1/r" + i));
      Map<String, Map<String, Integer>> one = links("curl -> nginx -> python, concurrency 1", receiver, agent, nginxChain("/c1"));
      // one thread reads the request and writes the call: always certain when it serves one at a time
      assertThat(thread(one)).isEqualTo(Map.of("correct", REQUESTS));

      curlAll(urls(nginx, i -> "/api/c16/r" + i), CONCURRENCY);
      links("curl -> nginx -> python, concurrency " + CONCURRENCY, receiver, agent, nginxChain("/c16"));
    }
  }

  @Test
  void aThreadPerRequestPythonServerCallingItsBackend(@TempDir Path work) throws Exception {
    try (OtlpReceiver receiver = OtlpReceiver.start();
        Server backend = Peers.server(List.of(Peers.python(), "-u", peer("linking_peer.py").toString(), "backend"),
            Map.of("OTEL_SERVICE_NAME", "backend"));
        Server front = Peers.server(List.of(Peers.python(), "-u", peer("linking_peer.py").toString(), "front",
            Integer.toString(backend.port())), Map.of("OTEL_SERVICE_NAME", "front"));
        AgentRun agent = agent(work, receiver, Map.of())) {
      curlAll(urls(front, i -> "/r" + i), CONCURRENCY);
      Map<String, Map<String, Integer>> table = links("curl -> python ThreadingHTTPServer -> python, concurrency "
          + CONCURRENCY, receiver, agent, List.of(
              client("curl", i -> "/r" + i, -1),
              server("front", i -> "/r" + i, 0),
              client("front", i -> "/b/r" + i, 1),
              server("backend", i -> "/b/r" + i, 2)));
      assertThat(thread(table)).isEqualTo(Map.of("correct", REQUESTS));
    }
  }

  @Test
  void aJavaServerHandingItsCallToAThreadPoolIsNeverLinkedWrongly(@TempDir Path work) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    try (OtlpReceiver receiver = OtlpReceiver.start();
        Server backend = Peers.server(List.of(Peers.python(), "-u", peer("linking_peer.py").toString(), "backend"),
            Map.of("OTEL_SERVICE_NAME", "backend"));
        Server front = Peers.server(List.of(java, "-Xmx64m", peer("LinkingJavaFront.java").toString(),
            Integer.toString(backend.port())), Map.of("OTEL_SERVICE_NAME", "java-front"));
        AgentRun agent = agent(work, receiver, Map.of())) {
      curlAll(urls(front, i -> "/r" + i), CONCURRENCY);
      links("curl -> Java server, call on a thread pool -> python, concurrency " + CONCURRENCY, receiver, agent, List.of(
          client("curl", i -> "/r" + i, -1),
          server("java-front", i -> "/r" + i, 0),
          client("java-front", i -> "/b/r" + i, 1),
          server("backend", i -> "/b/r" + i, 2)));
    }
  }

  @Test
  void anEventLoopServerMakingConcurrentCallsIsNeverLinkedWrongly(@TempDir Path work) throws Exception {
    Peers.require("node");
    try (OtlpReceiver receiver = OtlpReceiver.start();
        Server backend = Peers.server(List.of(Peers.python(), "-u", peer("linking_peer.py").toString(), "backend"),
            Map.of("OTEL_SERVICE_NAME", "backend"));
        Server front = Peers.server(List.of("node", peer("node_fanout.js").toString(), Integer.toString(backend.port())),
            Map.of("OTEL_SERVICE_NAME", "node-front"));
        AgentRun agent = agent(work, receiver, Map.of())) {
      curlAll(urls(front, i -> "/r" + i), CONCURRENCY);
      links("curl -> node event loop, two calls each -> python, concurrency " + CONCURRENCY, receiver, agent, List.of(
          client("curl", i -> "/r" + i, -1),
          server("node-front", i -> "/r" + i, 0),
          client("node-front", i -> "/b1/r" + i, 1),
          server("backend", i -> "/b1/r" + i, 2),
          client("node-front", i -> "/b2/r" + i, 1),
          server("backend", i -> "/b2/r" + i, 4)));
    }
  }

  @Test
  void http2StreamsOfOneConnectionAreLinkedByStream(@TempDir Path www, @TempDir Path work) throws Exception {
    Peers.require("nghttpd");
    Peers.require("nghttp");
    for (int i = 0; i < REQUESTS; i++) {
      Files.writeString(www.resolve("r" + i), "stream " + i + "\n");
    }
    Server server = Peers.startListening(p -> List.of("nghttpd", "--no-tls", "-d", www.toString(), Integer.toString(p)));
    int port = server.port();
    Process nghttpd = server.process();
    try (OtlpReceiver receiver = OtlpReceiver.start();
        AgentRun agent = agent(work, receiver, Map.of())) {
      // every stream at once on one connection, interleaved as the server answers them
      List<String> command = new ArrayList<>(List.of("nghttp", "-n"));
      command.addAll(urls(server, i -> "/r" + i));
      Peers.run(TIMEOUT, command.toArray(String[]::new)).assertSuccess();
      links("nghttp -> nghttpd, " + REQUESTS + " concurrent HTTP/2 streams of one connection", receiver, agent,
          List.of(client("nghttp", i -> "/r" + i, -1), server("nghttpd", i -> "/r" + i, 0)));
    } finally {
      nghttpd.destroy();
      nghttpd.waitFor();
    }
  }

  /**
   * parentbased_traceidratio 0.25: exactly the traces the SDK's own sampler keeps for their ids
   * are exported (the ids come from the JSON events, which show every exchange), each whole, and
   * about a quarter of them.
   */
  @Test
  void aSampledTraceIsExportedWholeAndTheRestNotAtAll(@TempDir Path www, @TempDir Path work) throws Exception {
    int requests = Math.max(REQUESTS, 48);
    Path config = Files.writeString(work.resolve("spanwire.conf"), "spanwire.events.trace-ids = true\n");
    try (OtlpReceiver receiver = OtlpReceiver.start();
        Server backend = Peers.server(List.of(Peers.python(), "-u", peer("linking_peer.py").toString(), "backend"),
            Map.of("OTEL_SERVICE_NAME", "backend"));
        Server nginx = nginxProxy(www, work, backend.port());
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), Map.of(
            "OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(), "OTEL_BSP_SCHEDULE_DELAY", "200",
            "OTEL_TRACES_SAMPLER", "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG", "0.25"),
            "--config", config.toString(), "--output", "json", "--comm", "^(curl|nginx|python3)$")) {
      for (int i = 0; i < requests; i++) {
        Peers.run(TIMEOUT, "curl", "-sS", "-o", "/dev/null", nginx.url("/api/s/r" + i)).assertSuccess();
      }
      // every exchange's ids, from the events: four per request
      Await.until("four http-resp events per request", TIMEOUT,
          () -> responses(agent, "/s/r").size() == 4 * requests, agent::logText);
      List<JsonNode> events = responses(agent, "/s/r");
      Map<String, List<JsonNode>> byTrace = events.stream().collect(Collectors.groupingBy(e -> data(e, "trace_id")));
      assertThat(byTrace).as("one trace per request, linked through nginx: %s", byTrace.values().stream()
          .filter(t -> t.size() != 4).map(t -> t.stream().map(e -> e.at("/body/proc").asText() + " " + data(e, "http_target")
              + " " + data(e, "span_id") + " <- " + data(e, "parent_span_id")).toList()).toList()).hasSize(requests);
      Sampler sdk = Sampler.traceIdRatioBased(0.25);
      Set<String> kept = byTrace.keySet().stream()
          .filter(trace -> sdk.shouldSample(Context.root(), trace, "GET", io.opentelemetry.api.trace.SpanKind.CLIENT,
              Attributes.empty(), List.of()).getDecision() == SamplingDecision.RECORD_AND_SAMPLE)
          .collect(Collectors.toSet());
      System.out.println("sampling parentbased_traceidratio 0.25: " + kept.size() + " of " + requests + " traces kept");
      // the ids are random, so the count is binomial: five standard deviations either side (a false
      // alarm about once in a million runs); the per-id equality below is what proves the sampler
      double sd = Math.sqrt(requests * 0.25 * 0.75);
      assertThat(kept.size()).as("about a quarter")
          .isBetween((int) Math.max(0, Math.floor(requests * 0.25 - 5 * sd)), (int) Math.ceil(requests * 0.25 + 5 * sd));
      // the events' parent ids are the same links the spans carry
      for (List<JsonNode> trace : byTrace.values()) {
        assertThat(trace.stream().filter(e -> !e.at("/body/data/parent_span_id").isMissingNode())).hasSize(3);
      }

      Await.until("the kept traces' spans", TIMEOUT, () -> exported(receiver, "/s/r").size() == 4 * kept.size(),
          () -> exported(receiver, "/s/r").size() + " of " + 4 * kept.size() + "\n" + agent.logText());
      Map<String, List<Span>> spansByTrace = exported(receiver, "/s/r").stream()
          .collect(Collectors.groupingBy(s -> HexFormat.of().formatHex(s.getTraceId().toByteArray())));
      assertThat(spansByTrace.keySet()).isEqualTo(kept);
      spansByTrace.forEach((trace, spans) -> assertThat(spans).as("trace %s whole", trace).hasSize(4)
          .allMatch(s -> (s.getFlags() & 1) == 1));
      // nothing more comes: the other traces were never exported
      agent.process().destroy();
      agent.process().waitFor();
      assertThat(exported(receiver, "/s/r")).hasSize(4 * kept.size());
      assertThat(agent.logText()).contains("sampled out " + 4 * (requests - kept.size()));
    }
  }

  private static String data(JsonNode event, String field) {
    return event.at("/body/data/" + field).asText();
  }

  private static List<JsonNode> responses(AgentRun agent, String targetPart) {
    return agent.events().stream()
        .filter(e -> e.at("/body/source").asText().equals("http-resp") && data(e, "http_target").contains(targetPart))
        .toList();
  }

  private static List<Span> exported(OtlpReceiver receiver, String targetPart) {
    return receiver.spans().stream().filter(s -> target(s).contains(targetPart)).toList();
  }
}
