package dev.spanwire.exporter.otel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.testing.Exchanges;
import dev.spanwire.exporter.testing.OtlpReceiver;
import dev.spanwire.semconv.NamingScheme;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Spans and metrics as a real OTLP/gRPC receiver decodes them; no kernel needed. */
class OtelExportTest {
  private static final long MS = 1_000_000L;
  private static final KernelClock CLOCK = KernelClock.withOffset(1_795_000_000_000_000_000L);
  private static final ProcessInfo NGINX = Exchanges.process(101, "nginx", null);
  private static final ProcessInfo SHOP = Exchanges.process(202, "python3", "shop-frontend");

  private OtlpReceiver receiver;
  private OtelSink sink;

  @AfterEach
  void close() {
    if (sink != null) {
      sink.shutdown();
    }
    if (receiver != null) {
      receiver.close();
    }
  }

  private ExportSettings settings(NamingScheme scheme, int port) {
    return ExportSettings.defaults()
        .withEndpoint(ExportSettings.Protocol.GRPC, "http://127.0.0.1:" + port)
        .withScheme(scheme)
        .withBatching(2048, 512, Duration.ofMillis(200))
        .withMetricInterval(Duration.ofHours(1));
  }

  private OtelSink start(ExportSettings settings) {
    dev.spanwire.exporter.counters.Counters counters = new dev.spanwire.exporter.counters.Counters();
    counters.register(dev.spanwire.semconv.AgentMetric.EVENTS_RECEIVED, () -> 42);
    return OtelSink.start(settings, CLOCK, "testhost", "1.2.3", counters, null);
  }

  private void send(Exchange exchange) {
    sink.metrics().onExchange(exchange);
    sink.spans().onExchange(exchange);
  }

  private static Exchange get(ProcessInfo p, Role role, long id, String target, int status, long at, long millis) {
    return Exchanges.exchange(p, role, id,
        "GET " + target + " HTTP/1.1\nHost: shop.test:8080\nUser-Agent: test/1\n\n",
        "HTTP/1.1 " + status + " X\nContent-Length: 3\n\nabc", at, millis * MS);
  }

  @Test
  void spansCarryResourcesKindsNamesTimesAndStatus() {
    receiver = OtlpReceiver.start();
    sink = start(settings(NamingScheme.APPSCOPE, receiver.port()));
    send(get(NGINX, Role.SERVER, 1, "/users/42?x=1", 200, 1_000 * MS, 3));
    send(get(NGINX, Role.SERVER, 1, "/users/43", 500, 1_010 * MS, 2));
    send(get(NGINX, Role.SERVER, 2, "/missing", 404, 1_020 * MS, 1));
    send(get(SHOP, Role.CLIENT, 3, "/missing", 404, 1_030 * MS, 5));
    Await.until("4 spans", Duration.ofSeconds(10), () -> receiver.spans().size() == 4);

    // one ResourceSpans per process, whatever the batching
    List<ResourceSpans> resources = receiver.resourceSpans();
    assertThat(resources).hasSize(2);
    Map<String, Object> nginx = OtlpReceiver.attributes(resources.stream()
        .filter(r -> OtlpReceiver.attributes(r.getResource().getAttributesList()).get("process.pid").equals(101L))
        .findFirst().orElseThrow().getResource().getAttributesList());
    assertThat(nginx).containsEntry("service.name", "nginx")
        .containsEntry("process.executable.name", "nginx")
        .containsEntry("process.command_line", "/usr/bin/nginx --serve")
        .containsEntry("host.name", "testhost")
        .containsEntry("service.instance.id", "testhost:101")
        .containsEntry("telemetry.sdk.language", "java")
        .containsKey("telemetry.sdk.version");
    assertThat(receiver.spansOf("shop-frontend")).hasSize(1); // OTEL_SERVICE_NAME wins
    assertThat(resources.getFirst().getScopeSpans(0).getScope().getName()).isEqualTo("spanwire");
    assertThat(resources.getFirst().getScopeSpans(0).getScope().getVersion()).isEqualTo("1.2.3");

    List<Span> server = receiver.spansOf("nginx");
    assertThat(server).extracting(Span::getName).containsExactlyInAnyOrder("GET /users/{id}", "GET /users/{id}", "GET /missing");
    Span first = server.stream().filter(s -> s.getStartTimeUnixNano() == CLOCK.toEpochNanos(1_000 * MS)).findFirst().orElseThrow();
    assertThat(first.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_SERVER);
    assertThat(first.getEndTimeUnixNano()).isEqualTo(CLOCK.toEpochNanos(1_003 * MS));
    assertThat(first.getTraceId().size()).isEqualTo(16);
    assertThat(first.getParentSpanId().isEmpty()).isTrue();
    assertThat(first.getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_UNSET);
    Map<String, Object> attributes = OtlpReceiver.attributes(first.getAttributesList());
    assertThat(attributes)
        .containsEntry("http_method", "GET")
        .containsEntry("http_target", "/users/42?x=1")
        .containsEntry("http_route", "/users/{id}")
        .containsEntry("http_flavor", "1.1")
        .containsEntry("http_scheme", "http")
        .containsEntry("http_host", "shop.test:8080")
        .containsEntry("http_user_agent", "test/1")
        .containsEntry("http_status_code", 200L)
        .containsEntry("http_status_text", "X")
        .containsEntry("http_server_duration", 3.0)
        .containsEntry("http_response_content_length", 3L)
        .containsEntry("net_transport", "IP.TCP")
        .containsEntry("net_peer_ip", "127.0.0.1")
        .containsEntry("net_peer_port", 40001L)
        .containsEntry("net_host_ip", "127.0.0.1")
        .containsEntry("net_host_port", 8080L);
    assertThat(server).filteredOn(s -> s.getName().equals("GET /missing"))
        .extracting(s -> s.getStatus().getCode()).containsExactly(Status.StatusCode.STATUS_CODE_UNSET);
    assertThat(server).filteredOn(s -> OtlpReceiver.attributes(s.getAttributesList()).get("http_status_code").equals(500L))
        .extracting(s -> s.getStatus().getCode()).containsExactly(Status.StatusCode.STATUS_CODE_ERROR);
    Span client = receiver.spansOf("shop-frontend").getFirst();
    assertThat(client.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_CLIENT);
    assertThat(client.getStatus().getCode()).isEqualTo(Status.StatusCode.STATUS_CODE_ERROR); // 404 on a client
    assertThat(OtlpReceiver.attributes(client.getAttributesList())).containsEntry("http_client_duration", 5.0);
  }

  @Test
  void validTraceparentJoinsItsTraceAndInvalidOnesAreIgnored() {
    receiver = OtlpReceiver.start();
    sink = start(settings(NamingScheme.APPSCOPE, receiver.port()));
    String trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    String parent = "00f067aa0ba902b7";
    send(Exchanges.exchange(NGINX, Role.SERVER, 1,
        "GET /joined HTTP/1.1\nHost: h\ntraceparent: 00-" + trace + "-" + parent + "-01\n\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 1_000 * MS, MS));
    send(Exchanges.exchange(NGINX, Role.SERVER, 1,
        "GET /bad HTTP/1.1\nHost: h\ntraceparent: 00-00000000000000000000000000000000-" + parent + "-01\n\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 1_010 * MS, MS));
    Await.until("2 spans", Duration.ofSeconds(10), () -> receiver.spans().size() == 2);
    Span joined = receiver.spans().stream().filter(s -> s.getName().equals("GET /joined")).findFirst().orElseThrow();
    assertThat(HexFormat.of().formatHex(joined.getTraceId().toByteArray())).isEqualTo(trace);
    assertThat(HexFormat.of().formatHex(joined.getParentSpanId().toByteArray())).isEqualTo(parent);
    assertThat(HexFormat.of().formatHex(joined.getSpanId().toByteArray())).isNotEqualTo(parent);
    Span alone = receiver.spans().stream().filter(s -> s.getName().equals("GET /bad")).findFirst().orElseThrow();
    assertThat(HexFormat.of().formatHex(alone.getTraceId().toByteArray())).isNotEqualTo(trace);
    assertThat(alone.getParentSpanId().isEmpty()).isTrue();
  }

  @Test
  void otelStableAndLegacySchemesNameAttributesTheirWay() {
    receiver = OtlpReceiver.start();
    sink = start(settings(NamingScheme.OTEL_STABLE, receiver.port()));
    send(Exchanges.exchange(NGINX, Role.SERVER, 1,
        "POST /cart/items?id=7 HTTP/1.1\nHost: shop.test:9090\nUser-Agent: ua\nX-Forwarded-For: 203.0.113.9, 10.0.0.1\nContent-Length: 2\n\nab",
        "HTTP/1.1 201 Created\nContent-Length: 4\n\nabcd", 1_000 * MS, 250 * MS));
    Await.until("1 span", Duration.ofSeconds(10), () -> receiver.spans().size() == 1);
    assertThat(OtlpReceiver.attributes(receiver.spans().getFirst().getAttributesList()))
        .containsEntry("http.request.method", "POST")
        .containsEntry("url.path", "/cart/items")
        .containsEntry("url.query", "id=7")
        .containsEntry("url.scheme", "http")
        .containsEntry("network.protocol.version", "1.1")
        .containsEntry("server.address", "shop.test")
        .containsEntry("server.port", 9090L)
        .containsEntry("client.address", "203.0.113.9")
        .containsEntry("user_agent.original", "ua")
        .containsEntry("http.response.status_code", 201L)
        .containsEntry("http.request.body.size", 2L)
        .containsEntry("http.response.body.size", 4L)
        .containsEntry("http.route", "/cart/items")
        .containsEntry("network.transport", "tcp")
        .containsEntry("network.peer.address", "127.0.0.1")
        .containsEntry("network.peer.port", 40001L)
        .doesNotContainKeys("http_method", "http.method", "http.target");
    sink.shutdown();
    receiver.close();

    receiver = OtlpReceiver.start();
    sink = start(settings(NamingScheme.OTEL_LEGACY, receiver.port()));
    send(get(NGINX, Role.SERVER, 1, "/legacy", 200, 1_000 * MS, 1));
    Await.until("1 span", Duration.ofSeconds(10), () -> receiver.spans().size() == 1);
    assertThat(OtlpReceiver.attributes(receiver.spans().getFirst().getAttributesList()))
        .containsEntry("http.method", "GET")
        .containsEntry("http.target", "/legacy")
        .containsEntry("http.status_code", 200L)
        .containsEntry("net.transport", "ip_tcp")
        .containsEntry("net.peer.ip", "127.0.0.1")
        .containsEntry("http.route", "/legacy");
  }

  @Test
  void metricsCountEveryExchangeInBucketsPerProcess() {
    receiver = OtlpReceiver.start();
    sink = start(settings(NamingScheme.APPSCOPE, receiver.port()));
    long[] millis = {1, 4, 7, 30, 30, 120, 900};
    for (int i = 0; i < millis.length; i++) {
      send(get(NGINX, Role.SERVER, 1, "/items/" + i, 200, (1_000 + i * 10) * MS, millis[i]));
    }
    send(get(SHOP, Role.CLIENT, 2, "/x", 200, 2_000 * MS, 10));
    sink.flushSoon();
    Await.until("nginx metrics", Duration.ofSeconds(10), () -> !receiver.latestMetricsOf("nginx").isEmpty());

    List<Metric> nginx = receiver.latestMetricsOf("nginx");
    Metric requests = metric(nginx, "http.requests");
    assertThat(requests.getUnit()).isEqualTo("{request}");
    assertThat(requests.getSum().getIsMonotonic()).isTrue();
    assertThat(requests.getSum().getDataPointsList()).hasSize(1);
    assertThat(requests.getSum().getDataPoints(0).getAsInt()).isEqualTo(7);
    assertThat(OtlpReceiver.attributes(requests.getSum().getDataPoints(0).getAttributesList()))
        .containsExactlyInAnyOrderEntriesOf(Map.of("http_method", "GET", "http_status_code", 200L, "http_route", "/items/{id}",
            "http_scheme", "http", "http_flavor", "1.1"));

    Metric duration = metric(nginx, "http.server.duration");
    assertThat(duration.getUnit()).isEqualTo("ms");
    HistogramDataPoint point = duration.getHistogram().getDataPoints(0);
    assertThat(point.getCount()).isEqualTo(7);
    assertThat(point.getBucketCountsList().stream().mapToLong(Long::longValue).sum()).isEqualTo(7);
    assertThat(point.getExplicitBoundsList()).startsWith(0.0, 5.0, 10.0, 25.0);
    // (0,5]: 1 and 4; (5,10]: 7; (25,50]: 30, 30; (100,250]: 120; (750,1000]: 900
    assertThat(point.getBucketCountsList()).startsWith(0L, 2L, 1L, 0L, 2L, 0L, 0L, 1L);
    assertThat(point.getSum()).isEqualTo(1092.0);
    assertThat(point.getMin()).isEqualTo(1.0);
    assertThat(point.getMax()).isEqualTo(900.0);
    assertThat(metric(nginx, "http.response.content_length").getUnit()).isEqualTo("By");
    assertThat(metric(nginx, "http.response.content_length").getHistogram().getDataPoints(0).getSum()).isEqualTo(21.0);
    assertThat(nginx).extracting(Metric::getName).doesNotContain("http.client.duration");

    List<Metric> shop = receiver.latestMetricsOf("shop-frontend");
    assertThat(metric(shop, "http.client.duration").getHistogram().getDataPoints(0).getCount()).isEqualTo(1);

    List<Metric> self = receiver.latestMetricsOf("spanwire");
    assertThat(metric(self, "spanwire.events.received").getSum().getDataPoints(0).getAsInt()).isEqualTo(42);
    assertThat(self).extracting(Metric::getName).contains("spanwire.spans.exported", "spanwire.spans.dropped",
        "spanwire.export.failures", "spanwire.queue.size");
  }

  @Test
  void stableMetricsAreSecondsWithAdvisedBuckets() {
    receiver = OtlpReceiver.start();
    sink = start(settings(NamingScheme.OTEL_STABLE, receiver.port()));
    send(get(NGINX, Role.SERVER, 1, "/s", 200, 1_000 * MS, 30));
    sink.flushSoon();
    Await.until("metrics", Duration.ofSeconds(10), () -> !receiver.latestMetricsOf("nginx").isEmpty());
    Metric duration = metric(receiver.latestMetricsOf("nginx"), "http.server.request.duration");
    assertThat(duration.getUnit()).isEqualTo("s");
    HistogramDataPoint point = duration.getHistogram().getDataPoints(0);
    assertThat(point.getExplicitBoundsList()).containsExactly(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0);
    assertThat(point.getSum()).isCloseTo(0.03, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(OtlpReceiver.attributes(point.getAttributesList())).containsEntry("http.request.method", "GET").containsEntry("http.route", "/s");
    assertThat(receiver.latestMetricsOf("nginx")).extracting(Metric::getName).contains("http.server.response.body.size");
  }

  @Test
  void cardinalityLimitSendsTheRestToOneOverflowSeries() {
    receiver = OtlpReceiver.start();
    sink = start(settings(NamingScheme.APPSCOPE, receiver.port()).withCardinalityLimit(2));
    for (String route : List.of("/a", "/b", "/c", "/d", "/a")) {
      send(get(NGINX, Role.SERVER, 1, route, 200, 1_000 * MS, 1));
    }
    sink.flushSoon();
    Await.until("metrics", Duration.ofSeconds(10), () -> !receiver.latestMetricsOf("nginx").isEmpty());
    var points = metric(receiver.latestMetricsOf("nginx"), "http.requests").getSum().getDataPointsList();
    assertThat(points).hasSize(3);
    assertThat(points.stream().mapToLong(p -> p.getAsInt()).sum()).isEqualTo(5);
    assertThat(points).anySatisfy(p -> {
      assertThat(OtlpReceiver.attributes(p.getAttributesList())).containsExactly(Map.entry("otel.metric.overflow", true));
      assertThat(p.getAsInt()).isEqualTo(2);
    });
  }

  private static Metric metric(List<Metric> metrics, String name) {
    return metrics.stream().filter(m -> m.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no metric " + name + " in " + metrics.stream().map(Metric::getName).toList()));
  }
}
