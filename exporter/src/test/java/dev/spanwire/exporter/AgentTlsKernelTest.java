package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import dev.spanwire.bpf.testing.Peers.Completed;
import dev.spanwire.bpf.testing.Peers.Server;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTPS as a user of the agent sees it: JSON events with the https scheme, and what stays opaque. */
@KernelTest
class AgentTlsKernelTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private static Path peer(String name) {
    try {
      return Path.of(AgentTlsKernelTest.class.getResource("/peers/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * node carries OpenSSL in its executable: a node server started after the agent is found when
   * it runs exec, without waiting for the periodic scan, and both sides' events say https.
   */
  @Test
  void aNodeServerStartedAfterTheAgentIsSeenOnBothSides(@TempDir Path work, @TempDir Path certificates) throws Exception {
    Peers.require("node");
    Peers.selfSignedCertificate(certificates);
    try (AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "json");
        Server server = Peers.server(List.of("node", peer("https_node.js").toString(), "server",
            certificates.resolve("cert.pem").toString(), certificates.resolve("key.pem").toString()), Map.of())) {
      Completed client = Peers.run(TIMEOUT, "node", peer("https_node.js").toString(), "client",
          server.httpsUrl("/late/1"), server.httpsUrl("/late/2")).assertSuccess();
      assertThat(client.out().lines().toList()).containsExactly("200", "200");
      for (long pid : List.of(client.pid(), server.pid())) {
        Await.until("two http-resp events of " + pid, TIMEOUT, () -> agent.events(pid, "http-resp").size() >= 2,
            agent::logText);
        List<JsonNode> responses = agent.events(pid, "http-resp");
        assertThat(responses).extracting(e -> e.at("/body/data/http_target").asText()).containsExactly("/late/1", "/late/2");
        assertThat(responses).allSatisfy(e -> {
          assertThat(e.at("/body/data/http_scheme").asText()).isEqualTo("https");
          assertThat(e.at("/body/data/http_status_code").asInt()).isEqualTo(200);
          assertThat(e.at("/body/data/http_host").asText()).isEqualTo("127.0.0.1:" + server.port());
        });
      }
    }
  }

  /**
   * An agent started into running HTTPS keep-alive traffic (wrk, one thread and two connections)
   * pairs every exchange it reports with its own answer: nginx names each request's path in X-Uri.
   * While a library's probes were attached one by one, wrk's requests could be seen before its
   * answers were, and every later answer then went to a request before its own (half of all
   * exchanges wrong in four of six starts). Three starts, each into the same running load.
   */
  @Test
  void anAgentStartedIntoRunningHttpsLoadPairsEveryExchangeRight(@TempDir Path www, @TempDir Path work,
      @TempDir Path certificates) throws Exception {
    Peers.require("wrk");
    Peers.selfSignedCertificate(certificates);
    Path script = Files.writeString(work.resolve("paths.lua"),
        "local n = 0\nrequest = function() n = n + 1; return wrk.format(\"GET\", \"/p\" .. n) end\n");
    Path config = Files.writeString(work.resolve("spanwire.conf"), "spanwire.watch = [{ type = http, name = \"^http-resp$\", "
        + "field = \"^http_(target|response_header_x_uri)$\", value = \".*\", headers = [\"(?i)^x-uri:\"] }]\n");
    try (Server nginx = Peers.nginx(www, work, false,
        "location /p { default_type text/plain; add_header X-Uri $uri always; return 200 $uri; }", certificates)) {
      Process wrk = Peers.start(List.of("wrk", "-t1", "-c2", "-d60s", "-s", script.toString(), nginx.httpsUrl("/")));
      try {
        for (int start = 1; start <= 3; start++) {
          try (AgentRun agent = AgentRun.start(work.resolve("agent" + start + ".log"), "--config", config.toString(), "--output", "json")) {
            Await.until("200 answers to wrk in start " + start, TIMEOUT,
                () -> agent.events(wrk.pid(), "http-resp").size() >= 200, agent::logText);
            agent.stop();
            List<JsonNode> answered = agent.events().stream()
                .filter(e -> !e.at("/body/data/http_response_header_x_uri").isMissingNode()).toList();
            assertThat(answered).as("wrk's and nginx's exchanges").hasSizeGreaterThanOrEqualTo(200);
            assertThat(answered).as("start %d: each answer names its own request", start).allSatisfy(e ->
                assertThat(e.at("/body/data/http_target").asText())
                    .isEqualTo(e.at("/body/data/http_response_header_x_uri").asText()));
          }
        }
        assertThat(wrk.isAlive()).as("the load ran through all three starts").isTrue();
      } finally {
        wrk.destroyForcibly().waitFor();
      }
    }
  }

  /**
   * Java's JSSE is not a library uprobes can see into: its side of a TLS connection on a capture
   * port is one net.close event with the tuple, the bytes and the time, never a parse error;
   * nginx's side (libssl) is a full exchange.
   */
  @Test
  void aTlsClientNoLibraryShowsIsOneNetCloseEvent(@TempDir Path www, @TempDir Path work, @TempDir Path certificates)
      throws Exception {
    Files.writeString(www.resolve("a.txt"), "alpha\n");
    Peers.selfSignedCertificate(certificates);
    try (Server nginx = Peers.nginx(www, work, false, "", certificates);
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "json", "--ports", Integer.toString(nginx.port()))) {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Completed jsse = Peers.run(Duration.ofSeconds(60), java, peer("JsseClient.java").toString(), nginx.httpsUrl("/a.txt"))
          .assertSuccess();
      assertThat(jsse.out().strip()).isEqualTo("200");

      Await.until("nginx's http-resp event", TIMEOUT, () -> agent.events(nginx.pid(), "http-resp").size() == 1, agent::logText);
      JsonNode served = agent.events(nginx.pid(), "http-resp").getFirst();
      assertThat(served.at("/body/data/http_target").asText()).isEqualTo("/a.txt");
      assertThat(served.at("/body/data/http_scheme").asText()).isEqualTo("https");

      Await.until("the client's net.close event", TIMEOUT, () -> agent.events().stream()
          .anyMatch(e -> e.at("/body/pid").asLong() == jsse.pid() && e.at("/body/source").asText().equals("net.close")), agent::logText);
      JsonNode closed = agent.events().stream()
          .filter(e -> e.at("/body/pid").asLong() == jsse.pid() && e.at("/body/source").asText().equals("net.close"))
          .findFirst().orElseThrow();
      assertThat(closed.at("/body/sourcetype").asText()).isEqualTo("net");
      JsonNode data = closed.at("/body/data");
      assertThat(data.get("net_protocol").asText()).isEqualTo("https");
      assertThat(data.get("net_peer_port").asInt()).isEqualTo(nginx.port());
      assertThat(data.get("net_tx").asLong()).isPositive();
      assertThat(data.get("net_rx").asLong()).isPositive();
      assertThat(agent.events().stream().filter(e -> e.at("/body/pid").asLong() == jsse.pid()))
          .as("nothing but the net.close of the JSSE client").hasSize(1);

      agent.stop();
      assertThat(agent.logText()).contains("parse errors 0");
    }
  }
}
