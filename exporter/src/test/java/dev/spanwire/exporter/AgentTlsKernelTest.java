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
