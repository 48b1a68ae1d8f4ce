package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import dev.spanwire.bpf.testing.Peers.Completed;
import dev.spanwire.bpf.testing.Peers.Server;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AppScope's metric output as a user runs it: metric events summed against the exchanges curl and
 * wrk made against nginx, StatsD lines received on a UDP socket of the test, and a StatsD address
 * nobody listens on.
 */
@KernelTest
class AgentMetricsOutputKernelTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private static Path config(Path work, String text) throws java.io.IOException {
    return Files.writeString(work.resolve("spanwire.conf"), text);
  }

  /** curl, one process: {@code ok} GETs of /ok.txt (200) and {@code missing} of /missing (404), 8 at once. */
  private static Completed curl(Server nginx, int ok, int missing) {
    List<String> command = new ArrayList<>(List.of("curl", "-sS", "--parallel", "--parallel-max", "8"));
    IntStream.range(0, ok).forEach(i -> command.addAll(List.of("-o", "/dev/null", nginx.url("/ok.txt"))));
    IntStream.range(0, missing).forEach(i -> command.addAll(List.of("-o", "/dev/null", nginx.url("/missing"))));
    return Peers.run(TIMEOUT, command.toArray(String[]::new)).assertSuccess();
  }

  /** The sum of http.requests events of one process name, by "status target". */
  private static Map<String, Long> requests(AgentRun agent, String proc) {
    Map<String, Long> sums = new TreeMap<>();
    for (JsonNode event : agent.events()) {
      JsonNode body = event.get("body");
      if (event.get("type").asText().equals("metric") && body.get("_metric").asText().equals("http.requests")
          && body.get("proc").asText().equals(proc)) {
        sums.merge(body.get("http_status_code").asInt() + " " + body.get("http_target").asText(), body.get("_value").asLong(), Long::sum);
      }
    }
    return sums;
  }

  @Test
  void metricEventsSumToTheExchangesMadeInterleavedWithTheHttpEvents(@TempDir Path www, @TempDir Path work)
      throws Exception {
    Peers.require("wrk");
    Files.writeString(www.resolve("ok.txt"), "fine\n");
    // the agent's own counters too: they leave every interval, traffic or not, and so mark its end
    Path conf = config(work, "spanwire.metrics { interval = 1s, agent = true }\n");
    try (Server nginx = Peers.nginx(www, work, false, "");
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--config", conf.toString(), "--output", "json",
            "--metrics-output", "json", "--otlp-endpoint", "none", "--comm", "^(curl|nginx|wrk)$")) {
      curl(nginx, 30, 20);
      Completed wrk = Peers.run(TIMEOUT, "wrk", "-t", "1", "-c", "4", "-d", "2s", nginx.url("/ok.txt")).assertSuccess();
      Matcher made = Pattern.compile("(\\d+) requests in").matcher(wrk.out());
      assertThat(made.find()).as(wrk.out()).isTrue();
      long wrkRequests = Long.parseLong(made.group(1));

      // curl's own side is exact: one process, every answer read
      Await.until("curl's requests in the metric events", TIMEOUT,
          () -> requests(agent, "curl").equals(Map.of("200 /ok.txt", 30L, "404 /missing", 20L)),
          () -> "curl " + requests(agent, "curl") + "\n" + agent.logText());
      // nginx answered curl's and wrk's; wrk stops with up to 4 requests under way, which nginx may
      // have answered after wrk stopped counting
      Await.until("nginx's requests in the metric events", TIMEOUT,
          () -> requests(agent, "nginx").getOrDefault("200 /ok.txt", 0L) >= 30 + wrkRequests
              && requests(agent, "nginx").getOrDefault("404 /missing", 0L) == 20,
          () -> "nginx " + requests(agent, "nginx") + ", wrk " + wrkRequests + "\n" + agent.logText());
      // a whole interval after the traffic ended: nothing more may come for it
      double ended = System.currentTimeMillis() / 1000.0;
      Await.until("an interval after the traffic", TIMEOUT, () -> agent.events().stream()
          .anyMatch(e -> e.at("/body/_metric").asText().equals("spanwire.exchanges") && e.at("/body/_time").asDouble() > ended + 1.0),
          agent::logText);
      assertThat(requests(agent, "nginx").get("200 /ok.txt")).isBetween(30 + wrkRequests, 30 + wrkRequests + 4);
      assertThat(requests(agent, "nginx").get("404 /missing")).isEqualTo(20);
      assertThat(requests(agent, "wrk").get("200 /ok.txt")).isBetween(wrkRequests, wrkRequests + 4);

      List<JsonNode> events = agent.events();
      JsonNode duration = events.stream()
          .filter(e -> e.at("/type").asText().equals("metric") && e.at("/body/_metric").asText().equals("http.server.duration"))
          .findFirst().orElseThrow();
      assertThat(duration.at("/body/_metric_type").asText()).isEqualTo("timer");
      assertThat(duration.at("/body/unit").asText()).isEqualTo("millisecond");
      assertThat(duration.at("/body/numops").asLong()).isPositive();
      assertThat(duration.at("/body/summary").asText()).isEqualTo("true");
      // the HTTP events keep flowing beside them, ports as AppScope writes them
      JsonNode response = events.stream().filter(e -> e.at("/body/source").asText().equals("http-resp")).findFirst().orElseThrow();
      assertThat(response.at("/body/data/net_peer_port").isTextual()).isTrue();
      assertThat(response.at("/body/data/net_host_port").isTextual()).isTrue();
    }
  }

  @Test
  void statsdLinesReachAUdpListener(@TempDir Path www, @TempDir Path work) throws Exception {
    Files.writeString(www.resolve("ok.txt"), "fine\n");
    try (DatagramChannel statsd = DatagramChannel.open()) {
      statsd.bind(new InetSocketAddress("127.0.0.1", 0));
      int port = ((InetSocketAddress) statsd.getLocalAddress()).getPort();
      List<String> lines = new CopyOnWriteArrayList<>();
      Thread receiver = Thread.ofPlatform().daemon().start(() -> {
        ByteBuffer datagram = ByteBuffer.allocate(65536);
        while (statsd.isOpen()) {
          try {
            datagram.clear();
            statsd.receive(datagram);
            datagram.flip();
            assertThat(datagram.remaining()).isLessThanOrEqualTo(1432);
            lines.addAll(StandardCharsets.UTF_8.decode(datagram).toString().lines().toList());
          } catch (java.io.IOException e) {
            return;
          }
        }
      });
      Path conf = config(work, "spanwire.metrics { interval = 1s, statsd = \"udp://127.0.0.1:" + port + "\" }\n");
      try (Server nginx = Peers.nginx(www, work, false, "");
          AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--config", conf.toString(), "--output", "none",
              "--metrics-output", "statsd", "--otlp-endpoint", "none", "--comm", "^(curl|nginx)$")) {
        curl(nginx, 10, 5);
        Pattern requests = Pattern.compile("http\\.requests:(\\d+)\\|c\\|#proc:(\\w+),pid:\\d+,http_method:GET,"
            + "http_target:([^,]+),http_status_code:(\\d+)");
        java.util.function.Supplier<Map<String, Long>> sums = () -> {
          Map<String, Long> sum = new TreeMap<>();
          for (String line : lines) {
            Matcher m = requests.matcher(line);
            if (m.matches()) {
              sum.merge(m.group(2) + " " + m.group(4) + " " + m.group(3), Long.parseLong(m.group(1)), Long::sum);
            }
          }
          return sum;
        };
        Map<String, Long> expected = Map.of("curl 200 /ok.txt", 10L, "curl 404 /missing", 5L,
            "nginx 200 /ok.txt", 10L, "nginx 404 /missing", 5L);
        Await.until("the StatsD lines of curl's requests", TIMEOUT, () -> sums.get().equals(expected),
            () -> sums.get() + " " + lines + "\n" + agent.logText());
        assertThat(lines).anyMatch(l -> l.matches("http\\.server\\.duration:[0-9.]+\\|ms(\\|@[0-9.E-]+)?\\|#proc:nginx,pid:\\d+,"
            + "http_method:GET,http_target:/ok\\.txt"));
      } finally {
        statsd.close();
        receiver.join(5_000);
      }
    }
  }

  @Test
  void aStatsdAddressNobodyListensOnCostsOnlyCountedDrops(@TempDir Path www, @TempDir Path work) throws Exception {
    Files.writeString(www.resolve("ok.txt"), "fine\n");
    int closed;
    try (DatagramChannel probe = DatagramChannel.open()) {
      probe.bind(new InetSocketAddress("127.0.0.1", 0));
      closed = ((InetSocketAddress) probe.getLocalAddress()).getPort();
    }
    Path conf = config(work, "spanwire.metrics { interval = 200ms, per-exchange = true, statsd = \"udp://127.0.0.1:" + closed + "\" }\n");
    try (Server nginx = Peers.nginx(www, work, false, "");
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--config", conf.toString(), "--output", "json",
            "--metrics-output", "statsd", "--otlp-endpoint", "none", "--comm", "^(curl|nginx)$")) {
      // one curl at a time, so each exchange's lines leave in datagrams of their own
      for (int i = 0; i < 10; i++) {
        Peers.run(TIMEOUT, "curl", "-sS", "-o", "/dev/null", nginx.url("/ok.txt")).assertSuccess();
        long seen = 2L * (i + 1);
        Await.until("exchange " + i + " reported", TIMEOUT,
            () -> agent.events().stream().filter(e -> e.at("/body/source").asText().equals("http-resp")).count() >= seen,
            agent::logText);
      }
      Await.until("every exchange in the JSON events", TIMEOUT,
          () -> agent.events().stream().filter(e -> e.at("/body/source").asText().equals("http-resp")).count() == 20,
          agent::logText);
      agent.process().destroy();
      agent.process().waitFor();
      Matcher dropped = Pattern.compile("metric points dropped (\\d+)").matcher(agent.logText());
      assertThat(dropped.find()).as(agent.logText()).isTrue();
      // the port answers unreachable to one datagram; the next send reports it and is dropped
      assertThat(Long.parseLong(dropped.group(1))).as(agent.logText()).isPositive();
    }
  }
}
