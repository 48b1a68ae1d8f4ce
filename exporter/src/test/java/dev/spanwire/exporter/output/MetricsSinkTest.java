package dev.spanwire.exporter.output;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.counters.Counter;
import dev.spanwire.exporter.counters.Counters;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.testing.Exchanges;
import dev.spanwire.semconv.AgentMetric;
import java.io.IOException;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** AppScope's metric output from exchanges: aggregation, intervals, both formats, bounds and drops. */
class MetricsSinkTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Wall time = monotonic + 1,700,000,000 s. */
  private static final KernelClock CLOCK = KernelClock.withOffset(1_700_000_000_000_000_000L);
  private static final ProcessInfo CURL = Exchanges.process(300, "curl", "curl");
  private static final ProcessInfo NGINX = Exchanges.process(400, "nginx", "nginx");
  private static final ProcessInfo AGENT = Exchanges.process(1, "spanwire", "spanwire");

  private long now = 5_000_000_000L;
  private final StringWriter out = new StringWriter();
  private final Counter dropped = new Counter();

  private MetricsSink sink(MetricSettings settings, Counters counters) {
    return new MetricsSink(settings, MetricsSink.jsonWriter(out, "box"), CLOCK, () -> now, counters, AGENT, dropped);
  }

  private static MetricSettings settings(boolean perExchange, boolean agent) {
    return new MetricSettings(MetricSettings.Output.JSON, MetricSettings.statsdAddress("udp://127.0.0.1:8125"),
        Duration.ofSeconds(10), perExchange, agent);
  }

  private List<JsonNode> events() throws IOException {
    List<JsonNode> events = new ArrayList<>();
    for (String line : out.toString().lines().toList()) {
      events.add(JSON.readTree(line));
    }
    return events;
  }

  private static void exchange(MetricsSink sink, ProcessInfo process, Role role, String target, int status, int bodyLength,
      long startNanos, long durationMillis) {
    String response = "HTTP/1.1 " + status + " X\nContent-Length: " + bodyLength + "\n\n" + "x".repeat(bodyLength);
    sink.onExchange(Exchanges.exchange(process, role, 1, "GET " + target + " HTTP/1.1\nHost: h\n\n", response,
        startNanos, durationMillis * 1_000_000));
  }

  @Test
  void anIntervalsExchangesLeaveAsAppScopesSummariesPerProcessAndLabelSet() throws IOException {
    MetricsSink sink = sink(settings(false, false), new Counters());
    exchange(sink, NGINX, Role.SERVER, "/users/12?x=1", 200, 10, now, 4);
    exchange(sink, NGINX, Role.SERVER, "/users/99", 200, 30, now, 8);
    exchange(sink, NGINX, Role.SERVER, "/users/7", 404, 5, now, 1);
    exchange(sink, CURL, Role.CLIENT, "/users/12?x=1", 200, 10, now, 6);
    now += 9_999_999_999L;
    sink.flush();
    assertThat(out.toString()).as("the interval is not over").isEmpty();
    now += 1;
    sink.flush();
    List<JsonNode> events = events();
    Map<String, JsonNode> byKey = new TreeMap<>();
    for (JsonNode event : events) {
      JsonNode body = event.get("body");
      assertThat(event.get("type").asText()).isEqualTo("metric");
      assertThat(body.get("summary").asText()).isEqualTo("true");
      assertThat(body.get("host").asText()).isEqualTo("box");
      assertThat(body.get("_time").asDouble()).isEqualTo(1_700_000_015.0);
      byKey.put(body.get("proc").asText() + " " + body.get("_metric").asText() + " " + body.get("http_target").asText()
          + " " + body.path("http_status_code").asText("-"), body);
    }
    assertThat(byKey.keySet()).containsExactly(
        "curl http.client.duration /users/{id} -",
        "curl http.requests /users/{id} 200",
        "curl http.response.content_length /users/{id} -",
        "nginx http.requests /users/{id} 200",
        "nginx http.requests /users/{id} 404",
        "nginx http.response.content_length /users/{id} -",
        "nginx http.server.duration /users/{id} -");
    JsonNode ok = byKey.get("nginx http.requests /users/{id} 200");
    assertThat(ok.get("_value").isIntegralNumber()).isTrue();
    assertThat(ok.get("_value").asLong()).isEqualTo(2);
    assertThat(ok.get("_metric_type").asText()).isEqualTo("counter");
    assertThat(ok.get("unit").asText()).isEqualTo("request");
    assertThat(ok.get("http_method").asText()).isEqualTo("GET");
    assertThat(ok.get("http_status_code").isInt()).isTrue();
    assertThat(ok.get("pid").asInt()).isEqualTo(400);
    assertThat(byKey.get("nginx http.requests /users/{id} 404").get("_value").asLong()).isEqualTo(1);
    JsonNode duration = byKey.get("nginx http.server.duration /users/{id} -");
    assertThat(duration.get("_metric_type").asText()).isEqualTo("timer");
    assertThat(duration.get("unit").asText()).isEqualTo("millisecond");
    assertThat(duration.get("numops").asLong()).isEqualTo(3);
    assertThat(duration.get("_value").asDouble()).isEqualTo((4 + 8 + 1) / 3.0, org.assertj.core.data.Offset.offset(0.001));
    JsonNode bytes = byKey.get("nginx http.response.content_length /users/{id} -");
    assertThat(bytes.get("_value").asLong()).isEqualTo(45);
    assertThat(bytes.get("numops").asLong()).isEqualTo(3);
    assertThat(bytes.get("unit").asText()).isEqualTo("byte");

    // the next interval starts empty
    out.getBuffer().setLength(0);
    exchange(sink, NGINX, Role.SERVER, "/a", 200, 0, now, 1);
    now += 10_000_000_000L;
    sink.flush();
    assertThat(events()).filteredOn(e -> e.at("/body/_metric").asText().equals("http.requests"))
        .singleElement().satisfies(e -> assertThat(e.at("/body/_value").asLong()).isEqualTo(1));
  }

  @Test
  void perExchangeEveryExchangeIsItsOwnSetAtItsTime() throws IOException {
    MetricsSink sink = sink(settings(true, false), new Counters());
    exchange(sink, NGINX, Role.SERVER, "/a", 200, 3, 7_000_000_000L, 2);
    exchange(sink, NGINX, Role.SERVER, "/a", 200, 3, 8_000_000_000L, 2);
    sink.flush();
    List<JsonNode> requests = events().stream().filter(e -> e.at("/body/_metric").asText().equals("http.requests")).toList();
    assertThat(requests).hasSize(2).allSatisfy(e -> {
      assertThat(e.at("/body/_value").asLong()).isEqualTo(1);
      assertThat(e.at("/body/summary").isMissingNode()).isTrue();
    });
    assertThat(requests.get(0).at("/body/_time").asDouble()).isEqualTo(1_700_000_007.002);
    assertThat(requests.get(1).at("/body/_time").asDouble()).isEqualTo(1_700_000_008.002);
    assertThat(events()).filteredOn(e -> e.at("/body/_metric").asText().equals("http.server.duration"))
        .allSatisfy(e -> assertThat(e.at("/body/_value").asDouble()).isEqualTo(2.0));
  }

  @Test
  void theAgentsCountersLeaveAsTheIntervalsIncreaseAndItsGaugesAsTheyAre() throws IOException {
    Counters counters = new Counters();
    Counter lost = counters.counter(AgentMetric.EVENTS_LOST);
    counters.register(AgentMetric.QUEUE_SIZE, () -> 17);
    MetricsSink sink = sink(settings(false, true), counters);
    lost.add(5);
    now += 10_000_000_000L;
    sink.flush();
    lost.add(2);
    now += 10_000_000_000L;
    sink.flush();
    List<JsonNode> lostEvents = events().stream().filter(e -> e.at("/body/_metric").asText().equals("spanwire.events.lost")).toList();
    assertThat(lostEvents).extracting(e -> e.at("/body/_value").asLong()).containsExactly(5L, 2L);
    assertThat(lostEvents.getFirst().at("/body/unit").asText()).isEqualTo("event");
    assertThat(lostEvents.getFirst().at("/body/proc").asText()).isEqualTo("spanwire");
    assertThat(events()).filteredOn(e -> e.at("/body/_metric").asText().equals("spanwire.queue.size"))
        .extracting(e -> e.at("/body/_metric_type").asText() + " " + e.at("/body/_value").asLong())
        .containsExactly("gauge 17", "gauge 17");
  }

  @Test
  void labelSetsPastTheBoundAreDroppedAndCounted() throws IOException {
    MetricsSink sink = sink(settings(false, false), new Counters());
    int processes = MetricsSink.MAX_SERIES / 3 + 2; // three series per server exchange with a body length
    for (int pid = 1; pid <= processes; pid++) {
      exchange(sink, Exchanges.process(pid, "p", "p"), Role.SERVER, "/a", 200, 1, now, 1);
    }
    now += 10_000_000_000L;
    sink.flush();
    assertThat(events()).hasSize(MetricsSink.MAX_SERIES);
    assertThat(sink.seriesDropped()).isEqualTo(3L * processes - MetricsSink.MAX_SERIES);
  }

  @Test
  void statsdLinesCarryDogStatsdTagsInDatagramsBelowTheBound() throws IOException {
    try (DatagramChannel server = DatagramChannel.open()) {
      server.bind(new InetSocketAddress("127.0.0.1", 0));
      InetSocketAddress address = (InetSocketAddress) server.getLocalAddress();
      MetricSettings statsd = new MetricSettings(MetricSettings.Output.STATSD, address, Duration.ofSeconds(10), false, false);
      MetricsSink sink = new MetricsSink(statsd, MetricsSink.statsdWriter(address, dropped), CLOCK, () -> now,
          new Counters(), AGENT, dropped);
      for (int i = 0; i < 60; i++) {
        // sixty routes: more lines than one datagram holds
        exchange(sink, NGINX, Role.SERVER, "/r" + i + "/x", 200, 2, now, 3);
      }
      exchange(sink, NGINX, Role.SERVER, "/r0/x", 200, 2, now, 5);
      now += 10_000_000_000L;
      sink.flush();
      List<String> lines = new ArrayList<>();
      ByteBuffer datagram = ByteBuffer.allocate(65536);
      server.configureBlocking(false);
      int datagrams = 0;
      long deadline = System.nanoTime() + 5_000_000_000L;
      while (lines.size() < 180 && System.nanoTime() < deadline) {
        datagram.clear();
        if (server.receive(datagram) == null) {
          Thread.onSpinWait();
          continue;
        }
        datagram.flip();
        assertThat(datagram.remaining()).isLessThanOrEqualTo(1432);
        datagrams++;
        lines.addAll(StandardCharsets.UTF_8.decode(datagram).toString().lines().toList());
      }
      assertThat(lines).hasSize(180); // 60 routes: requests, duration, content length each
      assertThat(datagrams).isGreaterThan(1);
      assertThat(lines).contains(
          "http.requests:2|c|#proc:nginx,pid:400,http_method:GET,http_target:/r0/x,http_status_code:200",
          "http.server.duration:4|ms|@0.5|#proc:nginx,pid:400,http_method:GET,http_target:/r0/x",
          "http.response.content_length:4|c|#proc:nginx,pid:400,http_method:GET,http_target:/r0/x",
          "http.requests:1|c|#proc:nginx,pid:400,http_method:GET,http_target:/r59/x,http_status_code:200");
      assertThat(dropped.get()).isZero();
    }
  }

  @Test
  void statsdLinesThatCannotGoAreCountedExactlyAndNothingWaits() {
    int[] sends = new int[1];
    StatsdWriter writer = new StatsdWriter(datagram -> {
      sends[0]++;
      if (sends[0] % 2 == 0) {
        throw new java.net.PortUnreachableException("nothing listens");
      }
      return sends[0] != 3; // the third datagram the kernel would not take
    }, dropped);
    MetricsSink.Point point = new MetricsSink.Point("http.requests", "counter", 1, -1, "request", NGINX,
        List.of(new MetricsSink.Dimension("http_target", "/" + "y".repeat(600))), true);
    for (int i = 0; i < 8; i++) {
      writer.write(point, 0); // two lines fill a datagram: a flush before every second one
    }
    writer.flush();
    // datagrams of two lines each: 1 sent, 2 refused, 3 not taken, 4 refused
    assertThat(sends[0]).isEqualTo(4);
    assertThat(dropped.get()).isEqualTo(6);
  }
}
