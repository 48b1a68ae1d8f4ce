package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import dev.spanwire.bpf.testing.Peers.Server;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The agent started while the traffic it captures is already running. */
@KernelTest
class AgentStartIntoLoadKernelTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  /**
   * An agent started into running keep-alive traffic (wrk, one thread and two connections) pairs
   * every exchange it reports with its own answer: nginx names each request's path in X-Uri. While
   * a source's programs were attached one by one (a TLS library's probes, or the syscall
   * tracepoints), one side's requests could be seen before its answers were (or the other side's
   * answers before their requests), and every later answer then went to a request before its own:
   * half of all exchanges wrong in four of six starts over HTTPS, two of four over HTTP on the
   * syscall backend. Three starts, each into the same running load.
   */
  @ParameterizedTest
  @ValueSource(strings = {"http", "https"})
  void anAgentStartedIntoRunningLoadPairsEveryExchangeRight(String scheme, @TempDir Path www, @TempDir Path work,
      @TempDir Path certificates) throws Exception {
    Peers.require("wrk");
    Peers.selfSignedCertificate(certificates);
    Path script = Files.writeString(work.resolve("paths.lua"),
        "local n = 0\nrequest = function() n = n + 1; return wrk.format(\"GET\", \"/p\" .. n) end\n");
    Path config = Files.writeString(work.resolve("spanwire.conf"), "spanwire.watch = [{ type = http, name = \"^http-resp$\", "
        + "field = \"^http_(target|response_header_x_uri)$\", value = \".*\", headers = [\"(?i)^x-uri:\"] }]\n");
    try (Server nginx = Peers.nginx(www, work, false,
        "location /p { default_type text/plain; add_header X-Uri $uri always; return 200 $uri; }",
        scheme.equals("https") ? certificates : null)) {
      String url = scheme.equals("https") ? nginx.httpsUrl("/") : nginx.url("/");
      Process wrk = Peers.start(List.of("wrk", "-t1", "-c2", "-d60s", "-s", script.toString(), url));
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

}
