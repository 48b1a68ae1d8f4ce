package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import dev.spanwire.bpf.testing.Peers.Completed;
import dev.spanwire.bpf.testing.Peers.Server;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent as a user runs it: its own process, its stdout, its shutdown. */
@KernelTest
class AgentOutputKernelTest {
  @Test
  void jsonEventsInAppScopeShape(@TempDir Path www, @TempDir Path work) throws Exception {
    Files.writeString(www.resolve("index.html"), "hello\n");
    try (Server nginx = Peers.nginx(www, work, false, "");
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "json")) {
      Completed curl = Peers.run(Duration.ofSeconds(30), "curl", "-s", "-o", "/dev/null", "-A", "json-test", nginx.url("/index.html?q=1"),
          "-w", "%{local_port}").assertSuccess();
      Await.until("curl's http-resp event", Duration.ofSeconds(15),
          () -> agent.lines().stream().anyMatch(l -> l.contains("\"http-resp\"") && l.contains("\"pid\":" + curl.pid())));
      Await.until("nginx's http-resp event", Duration.ofSeconds(15),
          () -> agent.lines().stream().anyMatch(l -> l.contains("\"http-resp\"") && l.contains("\"pid\":" + nginx.pid())));

      List<JsonNode> curlEvents = agent.lines().stream().map(AgentRun::parse)
          .filter(e -> e.at("/body/pid").asLong() == curl.pid()).toList();
      assertThat(curlEvents).extracting(e -> e.at("/body/source").asText()).containsExactly("http-req", "http-resp");
      JsonNode response = curlEvents.get(1);
      assertThat(response.at("/type").asText()).isEqualTo("evt");
      assertThat(response.at("/_channel").asText()).isNotBlank();
      assertThat(response.at("/body/sourcetype").asText()).isEqualTo("http");
      assertThat(response.at("/body/proc").asText()).isEqualTo("curl");
      assertThat(response.at("/body/cmd").asText()).startsWith("curl -s -o /dev/null -A json-test");
      assertThat(response.at("/body/_time").asDouble()).isCloseTo(System.currentTimeMillis() / 1000.0, org.assertj.core.data.Offset.offset(60.0));
      JsonNode data = response.at("/body/data");
      assertThat(data.get("http_method").asText()).isEqualTo("GET");
      assertThat(data.get("http_target").asText()).isEqualTo("/index.html?q=1");
      assertThat(data.get("http_flavor").asText()).isEqualTo("1.1");
      assertThat(data.get("http_scheme").asText()).isEqualTo("http");
      assertThat(data.get("http_host").asText()).isEqualTo("127.0.0.1:" + nginx.port());
      assertThat(data.get("http_user_agent").asText()).isEqualTo("json-test");
      assertThat(data.get("http_status_code").asInt()).isEqualTo(200);
      assertThat(data.get("http_status_text").asText()).isEqualTo("OK");
      assertThat(data.get("http_client_duration").asDouble()).isPositive();
      assertThat(data.has("http_server_duration")).isFalse();
      assertThat(data.get("http_response_content_length").asLong()).isEqualTo(6);
      assertThat(data.get("net_transport").asText()).isEqualTo("IP.TCP");
      assertThat(data.get("net_peer_ip").asText()).isEqualTo("127.0.0.1");
      assertThat(data.get("net_peer_port").asInt()).isEqualTo(nginx.port());
      assertThat(data.get("net_host_port").asInt()).as("curl's own port").isEqualTo(Integer.parseInt(curl.out().strip()));

      JsonNode serverResponse = agent.lines().stream().map(AgentRun::parse)
          .filter(e -> e.at("/body/pid").asLong() == nginx.pid() && e.at("/body/source").asText().equals("http-resp"))
          .findFirst().orElseThrow();
      assertThat(serverResponse.at("/body/data/http_server_duration").asDouble()).isPositive();
      assertThat(serverResponse.at("/body/data/net_host_port").asInt()).isEqualTo(nginx.port());

      agent.stop();
      assertThat(agent.logText()).contains("spanwire: stopped: ").contains("exchanges 2");
    }
  }

  @Test
  void tableShowsTheGadgetColumns(@TempDir Path www, @TempDir Path work) throws Exception {
    Files.writeString(www.resolve("index.html"), "hello\n");
    try (Server nginx = Peers.nginx(www, work, false, "");
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "table")) {
      Completed curl = Peers.run(Duration.ofSeconds(30), "curl", "-s", "-o", "/dev/null", nginx.url("/index.html")).assertSuccess();
      Await.until("curl's row", Duration.ofSeconds(15),
          () -> agent.lines().stream().anyMatch(l -> l.matches(".*\\bcurl\\s+" + curl.pid() + "\\b.*")));
      assertThat(agent.lines().getFirst()).matches(
          "TIMESTAMP\\s+COMM\\s+PID\\s+SRC\\s+DST\\s+PROTO\\s+METHOD\\s+HOST\\s+PATH\\s+STATUS\\s+LATENCY");
      String row = agent.lines().stream().filter(l -> l.matches(".*\\bcurl\\s+" + curl.pid() + "\\b.*")).findFirst().orElseThrow();
      assertThat(row).matches(
          "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z\\s+curl\\s+" + curl.pid()
              + "\\s+127\\.0\\.0\\.1:\\d+\\s+127\\.0\\.0\\.1:" + nginx.port()
              + "\\s+HTTP\\s+GET\\s+127\\.0\\.0\\.1:" + nginx.port() + "\\s+/index\\.html\\s+200\\s+\\d+\\.\\d{3}ms");
      // columns line up: each header starts where its values start
      String header = agent.lines().getFirst();
      assertThat(row.indexOf("curl")).isEqualTo(header.indexOf("COMM"));
      assertThat(row.indexOf(" 200 ") + 1).isEqualTo(header.indexOf("STATUS"));
      agent.stop();
    }
  }

  /** The liveness file: the time written while capture works, again every 10 s, gone at exit. */
  @Test
  void theHealthFileCarriesARecentTimeWhileCapturingAndGoesAtExit(@TempDir Path work) throws Exception {
    Path health = work.resolve("alive");
    try (AgentRun agent = AgentRun.start(work.resolve("agent.log"), java.util.Map.of("SPANWIRE_HEALTH_FILE", health.toString()),
        "--output", "none", "--otlp-endpoint", "none")) {
      Await.until("the health file", Duration.ofSeconds(15), () -> Files.exists(health), agent::logText);
      long first = Long.parseLong(Files.readString(health).strip());
      assertThat(first).isCloseTo(System.currentTimeMillis() / 1000, org.assertj.core.data.Offset.offset(15L));
      Await.until("the next beat", Duration.ofSeconds(30), () -> beat(health) > first, agent::logText);
      agent.process().destroy();
      assertThat(agent.process().waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      assertThat(health).doesNotExist();
    }
  }

  private static long beat(Path health) {
    try {
      return Files.exists(health) ? Long.parseLong(Files.readString(health).strip()) : -1;
    } catch (java.io.IOException | NumberFormatException e) {
      return -1; // replaced just now
    }
  }

  /** Reads each upload whole, says so on stdout, and answers it {@code argv[1]} seconds later. */
  private static final String SLOW_SERVER = """
      import http.server, socketserver, sys, time
      class H(http.server.BaseHTTPRequestHandler):
          protocol_version = "HTTP/1.1"
          def do_POST(self):
              left = int(self.headers.get("Content-Length", "0"))
              while left > 0:
                  b = self.rfile.read(min(left, 65536))
                  if not b:
                      break
                  left -= len(b)
              print("read " + self.path, flush=True)
              time.sleep(float(sys.argv[1]))
              self.send_response(200)
              self.send_header("Content-Length", "3")
              self.end_headers()
              self.wfile.write(b"ok\\n")
          def log_message(self, *a):
              pass
      class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
          daemon_threads = True
          request_queue_size = 128
      s = S(("127.0.0.1", 0), H)
      print("port %d" % s.server_address[1], flush=True)
      s.serve_forever()
      """;

  /**
   * Forty 1 MiB uploads under body capture, each read whole by the server before the next starts,
   * all answered only 8 s later: every request waits with its captured body, on both sides. When a
   * complete request gave its body's bytes back to the budget, the waiting bodies (80 MiB) outgrew
   * the launcher's 32 MiB heap and the agent died of OutOfMemoryError; now they stay counted, the
   * later ones are cut, and every exchange is reported.
   */
  @Test
  void uploadsWaitingForASlowAnswerUnderBodyCaptureDoNotExhaustTheHeap(@TempDir Path work) throws Exception {
    Path upload = Files.writeString(work.resolve("upload.txt"), "0123456789abcdef".repeat(1 << 16)); // 1 MiB
    Path script = Files.writeString(work.resolve("slow.py"), SLOW_SERVER);
    Process server = new ProcessBuilder(Peers.python(), "-u", script.toString(), "8").redirectErrorStream(true).start();
    java.util.concurrent.BlockingQueue<String> said = new java.util.concurrent.LinkedBlockingQueue<>();
    Thread.ofPlatform().daemon().start(() -> {
      try (var reader = server.inputReader()) {
        reader.lines().forEach(said::add);
      } catch (java.io.IOException ignored) {
        // the server ended
      }
    });
    List<Process> clients = new java.util.ArrayList<>();
    try (AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "table", "--otlp-endpoint", "none",
        "--max-body-size", "1048576", "--comm", "^(curl|python3)$")) {
      String first = said.poll(10, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(first).as("the server's port").startsWith("port ");
      int port = Integer.parseInt(first.substring(5).strip());
      for (int i = 0; i < 40; i++) {
        clients.add(Peers.start(List.of("curl", "-s", "-o", "/dev/null", "-X", "POST", "--data-binary", "@" + upload,
            "-H", "Content-Type: text/plain", "http://127.0.0.1:" + port + "/up/" + i)));
        assertThat(said.poll(10, java.util.concurrent.TimeUnit.SECONDS)).as("upload %d read", i).isEqualTo("read /up/" + i);
        // the load's shape, not a wait for anything: a pause lets the agent's reader empty the ring,
        // so each body is captured whole (back to back, the ring's pressure cut would keep them small)
        java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
      }
      for (Process client : clients) {
        assertThat(client.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(client.exitValue()).isZero();
      }
      // one table row per side of each exchange
      Await.until("80 rows", Duration.ofSeconds(20), () -> agent.lines().stream().filter(l -> l.contains(" /up/")).count() == 80,
          agent::logText);
      int exit = agent.stop();
      String log = agent.logText();
      assertThat(log).doesNotContain("OutOfMemoryError").doesNotContain("capture stopped");
      assertThat(exit).as(log).isEqualTo(143);
      assertThat(log).contains("exchanges 80, server 40, client 40, unanswered 0");
    } finally {
      clients.forEach(Process::destroyForcibly);
      server.destroyForcibly();
    }
  }
}
