package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import dev.spanwire.bpf.testing.Peers.Completed;
import dev.spanwire.bpf.testing.Peers.Server;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 without TLS (h2c) as a user of the agent sees it, with peers nobody here wrote: node's
 * http2 (nghttp2), nghttpd, nghttp, curl, nginx and h2load.
 */
@KernelTest
class AgentHttp2KernelTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private static Path peer(String name) {
    try {
      return Path.of(AgentHttp2KernelTest.class.getResource("/peers/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long counter(String log, String name) {
    Matcher m = Pattern.compile("[,:] " + Pattern.quote(name) + " (\\d+)").matcher(log);
    long last = -1;
    while (m.find()) {
      last = Long.parseLong(m.group(1));
    }
    assertThat(last).as("counter '%s' in the agent's log:%n%s", name, log).isNotNegative();
    return last;
  }

  private static List<String> summary(List<JsonNode> responses) {
    return responses.stream()
        .map(e -> e.at("/body/data/http_target").asText() + " " + e.at("/body/data/http_status_code").asInt()
            + " stream " + e.at("/body/data/http_stream").asInt() + " " + e.at("/body/data/http_flavor").asText())
        .sorted().toList();
  }

  /**
   * Four streams on one connection, one of them cancelled by the client (RST_STREAM), one with
   * trailers, then GOAWAY: both sides' events, each stream's own status.
   */
  @Test
  void concurrentStreamsACancelAndTrailersOnBothSides(@TempDir Path work) throws Exception {
    Peers.require("node");
    try (AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "json", "--otlp-endpoint", "none", "--comm", "^node$");
        Server server = Peers.server(List.of("node", peer("h2_node.js").toString(), "server"), Map.of())) {
      Completed client = Peers.run(TIMEOUT, "node", peer("h2_node.js").toString(), "client", server.url("")).assertSuccess();
      assertThat(client.out().lines().sorted().toList()).containsExactly("/hello 200", "/missing 404", "/trailers 200");
      // node opens the streams in the order it asks: /slow 1, /hello 3, /missing 5, /trailers 7
      List<String> expected = List.of("/hello 200 stream 3 2.0", "/missing 404 stream 5 2.0", "/trailers 200 stream 7 2.0");
      for (long pid : List.of(client.pid(), server.pid())) {
        Await.until("three http-resp events of " + pid, TIMEOUT, () -> agent.events(pid, "http-resp").size() >= 3, agent::logText);
        assertThat(summary(agent.events(pid, "http-resp"))).as("responses of %d", pid).isEqualTo(expected);
        assertThat(agent.events(pid, "http-req")).extracting(e -> e.at("/body/data/http_target").asText())
            .containsExactlyInAnyOrder("/slow", "/hello", "/missing", "/trailers");
      }
      agent.stop();
      String log = agent.logText();
      assertThat(counter(log, "HTTP/2 resets")).as("the cancelled /slow, seen on both sides").isEqualTo(2);
      assertThat(counter(log, "unanswered")).as("/slow on both sides").isEqualTo(2);
      assertThat(counter(log, "parse errors")).isZero();
      assertThat(counter(log, "hpack desync")).isZero();
    }
  }

  /**
   * nghttpd serving files to curl (prior knowledge) and to nghttp (three streams at once, one
   * with a header block over 16 KiB that nghttp2 sends as HEADERS and CONTINUATION).
   */
  @Test
  void nghttpdWithCurlAndNghttpIncludingContinuation(@TempDir Path www, @TempDir Path work) throws Exception {
    Peers.require("nghttpd");
    Peers.require("nghttp");
    Files.writeString(www.resolve("a.txt"), "alpha\n");
    Files.writeString(www.resolve("b.txt"), "bravo bravo\n");
    Server server = Peers.startListening(p -> List.of("nghttpd", "--no-tls", "-d", www.toString(), Integer.toString(p)));
    int port = server.port();
    Process nghttpd = server.process();
    try (AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "json", "--otlp-endpoint", "none")) {
      String base = "http://127.0.0.1:" + port;
      Completed curl = Peers.run(TIMEOUT, "curl", "-sS", "--http2-prior-knowledge", base + "/a.txt").assertSuccess();
      assertThat(curl.out()).isEqualTo("alpha\n");
      String big = "x".repeat(20_000);
      Completed nghttp = Peers.run(TIMEOUT, "nghttp", "-n", "-H", "x-big: " + big,
          base + "/a.txt", base + "/b.txt", base + "/none.txt").assertSuccess();

      Await.until("curl's exchange", TIMEOUT, () -> agent.events(curl.pid(), "http-resp").size() == 1, agent::logText);
      assertThat(summary(agent.events(curl.pid(), "http-resp"))).containsExactly("/a.txt 200 stream 1 2.0");
      JsonNode curlResponse = agent.events(curl.pid(), "http-resp").getFirst().at("/body/data");
      assertThat(curlResponse.get("http_response_content_length").asLong()).isEqualTo(6);
      assertThat(curlResponse.get("http_host").asText()).isEqualTo("127.0.0.1:" + port);

      Await.until("nghttp's three exchanges", TIMEOUT, () -> agent.events(nghttp.pid(), "http-resp").size() == 3, agent::logText);
      assertThat(summary(agent.events(nghttp.pid(), "http-resp")))
          .containsExactly("/a.txt 200 stream 13 2.0", "/b.txt 200 stream 15 2.0", "/none.txt 404 stream 17 2.0");
      Await.until("nghttpd's four exchanges", TIMEOUT, () -> agent.events(nghttpd.pid(), "http-resp").size() == 4, agent::logText);
      assertThat(agent.events(nghttpd.pid(), "http-resp")).extracting(e -> e.at("/body/data/http_target").asText())
          .containsExactlyInAnyOrder("/a.txt", "/a.txt", "/b.txt", "/none.txt");
      agent.stop();
      String log = agent.logText();
      assertThat(counter(log, "HTTP/2 header frames cut")).isZero();
      assertThat(counter(log, "hpack desync")).isZero();
      assertThat(counter(log, "parse errors")).isZero();
    } finally {
      nghttpd.destroy();
      nghttpd.waitFor(5, TimeUnit.SECONDS);
    }
  }

  /** nginx speaking h2c (prior knowledge) to curl and to nghttp's concurrent streams: both sides. */
  @Test
  void nginxH2cWithCurlAndNghttp(@TempDir Path www, @TempDir Path work) throws Exception {
    Peers.require("nghttp");
    Files.writeString(www.resolve("a.txt"), "alpha\n");
    Files.writeString(www.resolve("b.txt"), "bravo bravo\n");
    try (Server nginx = Peers.nginx(www, work, false, "", null, true);
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "json", "--otlp-endpoint", "none")) {
      Completed curl = Peers.run(TIMEOUT, "curl", "-sS", "--http2-prior-knowledge", nginx.url("/b.txt")).assertSuccess();
      assertThat(curl.out()).isEqualTo("bravo bravo\n");
      Completed nghttp = Peers.run(TIMEOUT, "nghttp", "-n", nginx.url("/a.txt"), nginx.url("/b.txt"), nginx.url("/none"))
          .assertSuccess();
      Await.until("curl's exchange", TIMEOUT, () -> agent.events(curl.pid(), "http-resp").size() == 1, agent::logText);
      assertThat(summary(agent.events(curl.pid(), "http-resp"))).containsExactly("/b.txt 200 stream 1 2.0");
      assertThat(agent.events(curl.pid(), "http-resp").getFirst().at("/body/data/http_response_content_length").asLong())
          .isEqualTo(12);
      Await.until("nghttp's exchanges", TIMEOUT, () -> agent.events(nghttp.pid(), "http-resp").size() == 3, agent::logText);
      assertThat(summary(agent.events(nghttp.pid(), "http-resp")))
          .containsExactly("/a.txt 200 stream 13 2.0", "/b.txt 200 stream 15 2.0", "/none 404 stream 17 2.0");
      Await.until("nginx's four exchanges", TIMEOUT, () -> agent.events(nginx.pid(), "http-resp").size() == 4, agent::logText);
      assertThat(summary(agent.events(nginx.pid(), "http-resp"))).containsExactly(
          "/a.txt 200 stream 13 2.0", "/b.txt 200 stream 1 2.0", "/b.txt 200 stream 15 2.0", "/none 404 stream 17 2.0");
      agent.stop();
      assertThat(counter(agent.logText(), "parse errors")).isZero();
    }
  }

  /**
   * HTTP/2 over TLS (ALPN h2) between curl and nginx on a capture port: the plaintext through
   * OpenSSL, a header block bigger than the default capture size read whole.
   */
  @Test
  void http2OverTlsWithALargeHeaderBlock(@TempDir Path www, @TempDir Path work, @TempDir Path certificates) throws Exception {
    Files.writeString(www.resolve("a.txt"), "alpha\n");
    Peers.selfSignedCertificate(certificates);
    try (Server nginx = Peers.nginx(www, work, false, "", certificates, true);
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "json", "--otlp-endpoint", "none",
            "--ports", Integer.toString(nginx.port()))) {
      String big = "x".repeat(6000);
      Completed curl = Peers.run(TIMEOUT, "curl", "-sS", "-k", "--http2", "-H", "x-big: " + big,
          nginx.httpsUrl("/a.txt"), nginx.httpsUrl("/missing")).assertSuccess();
      assertThat(curl.out()).startsWith("alpha\n");
      for (long pid : List.of(curl.pid(), nginx.pid())) {
        Await.until("two exchanges of " + pid, TIMEOUT, () -> agent.events(pid, "http-resp").size() == 2, agent::logText);
        assertThat(summary(agent.events(pid, "http-resp"))).as("responses of %d", pid)
            .containsExactly("/a.txt 200 stream 1 2.0", "/missing 404 stream 3 2.0");
        assertThat(agent.events(pid, "http-resp")).allSatisfy(e -> assertThat(e.at("/body/data/http_scheme").asText()).isEqualTo("https"));
      }
      agent.stop();
      String log = agent.logText();
      assertThat(counter(log, "HTTP/2 header frames cut")).isZero();
      assertThat(counter(log, "hpack desync")).isZero();
      assertThat(counter(log, "parse errors")).isZero();
    }
  }

  /** h2load's 20000 requests over 4 connections, 10 streams each at a time, to nginx (h2c): every one seen, on both sides. */
  @Test
  void h2loadAgainstNginxIsCountedExactly(@TempDir Path www, @TempDir Path work) throws Exception {
    Peers.require("h2load");
    Files.writeString(www.resolve("index.html"), "<html>spanwire</html>\n");
    try (Server nginx = Peers.nginx(www, work, false, "", null, true);
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "none", "--otlp-endpoint", "none", "--comm", "^(h2load|nginx)$")) {
      Completed load = Peers.run(Duration.ofSeconds(120), "h2load", "-n", "20000", "-c", "4", "-m", "10",
          nginx.url("/index.html")).assertSuccess();
      assertThat(load.out()).contains("20000 succeeded");
      // every event is in the ring buffer once h2load has exited; the agent reads them all before it stops
      agent.stop();
      String log = agent.logText();
      assertThat(counter(log, "exchanges")).isEqualTo(40000);
      assertThat(counter(log, "server")).isEqualTo(20000);
      assertThat(counter(log, "client")).isEqualTo(20000);
      assertThat(counter(log, "parse errors")).isZero();
    }
  }

  /**
   * Body capture at 1 MiB and a hundred streams of 1 MiB answers at once on each of two
   * connections: the bodies under capture would need far more than the agent's heap (the launcher's
   * 32 MiB), and the agent died of OutOfMemoryError. They now share a budget; the agent stays up,
   * stops cleanly, and reports exchanges.
   */
  @Test
  void aHundredConcurrentStreamsOfOneMebibyteBodiesUnderBodyCaptureDoNotExhaustTheHeap(@TempDir Path www, @TempDir Path work)
      throws Exception {
    Peers.require("h2load");
    Files.writeString(www.resolve("big.txt"), "0123456789abcdef".repeat(1 << 16)); // 1 MiB of text
    try (Server nginx = Peers.nginx(www, work, false, "", null, true);
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "none", "--otlp-endpoint", "none",
            "--max-body-size", "1048576", "--comm", "^(h2load|nginx)$")) {
      Completed load = Peers.run(Duration.ofSeconds(120), "h2load", "-n", "2000", "-c", "2", "-m", "100",
          nginx.url("/big.txt")).assertSuccess();
      assertThat(load.out()).contains("2000 succeeded");
      int exit = agent.stop();
      String log = agent.logText();
      assertThat(log).doesNotContain("OutOfMemoryError").doesNotContain("capture stopped");
      assertThat(exit).as("SIGTERM's exit; the log: %s", log).isEqualTo(143);
      assertThat(counter(log, "exchanges")).isPositive();
    }
  }

  /**
   * The agent starts while an HTTP/2 connection is open: header fields the encoder had put into
   * its table before are references the agent cannot follow. It counts them and never reports a
   * wrong value; fields sent in full are still read.
   */
  @Test
  void aConnectionOpenBeforeTheAgentNeverGetsWrongValues(@TempDir Path work) throws Exception {
    Peers.require("node");
    try (Server server = Peers.server(List.of("node", peer("h2_node.js").toString(), "server"), Map.of())) {
      Process client = Peers.start(List.of("node", peer("h2_node.js").toString(), "late", server.url("")));
      BufferedReader out = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
      assertThat(out.readLine()).isEqualTo("/late/1 200");
      assertThat(out.readLine()).isEqualTo("ready");
      try (AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "json", "--otlp-endpoint", "none", "--comm", "^node$")) {
        Writer in = new OutputStreamWriter(client.getOutputStream(), StandardCharsets.UTF_8);
        in.write("7\n");
        in.flush();
        assertThat(out.readLine()).isEqualTo("/late/1 200");
        assertThat(out.readLine()).isEqualTo("/late/2-7 200");
        assertThat(client.waitFor(10, TimeUnit.SECONDS)).isTrue();
        // the request with a new :path (a literal) is read on both sides
        for (long pid : List.of(client.pid(), server.pid())) {
          Await.until("/late/2-7 answered, seen from " + pid, TIMEOUT, () -> agent.events(pid, "http-resp").stream()
              .anyMatch(e -> e.at("/body/data/http_target").asText().equals("/late/2-7")
                  && e.at("/body/data/http_status_code").asInt() == 200), agent::logText);
        }
        agent.stop();
        assertThat(counter(agent.logText(), "hpack desync")).isPositive();
        List<JsonNode> events = agent.events().stream()
            .filter(e -> e.at("/body/source").asText().startsWith("http-")).toList();
        // what is reported is right: a target that was sent, the user agent and host that were sent or none
        assertThat(events).allSatisfy(e -> {
          assertThat(e.at("/body/data/http_target").asText()).isIn("/late/1", "/late/2-7");
          JsonNode agentField = e.at("/body/data/http_user_agent");
          assertThat(agentField.isMissingNode() || agentField.asText().equals("late-client/1")).isTrue();
          JsonNode host = e.at("/body/data/http_host");
          assertThat(host.isMissingNode() || host.asText().equals("127.0.0.1:" + server.port())).isTrue();
        });
      } finally {
        client.destroy();
      }
    }
  }
}
