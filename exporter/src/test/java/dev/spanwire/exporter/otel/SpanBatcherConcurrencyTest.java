package dev.spanwire.exporter.otel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.exporter.exchange.ExchangeFields;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.testing.Exchanges;
import dev.spanwire.exporter.testing.OtlpReceiver;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Several export requests in flight at once, against the real gRPC receiver made to answer only
 * when that many requests wait together: a batcher that sent one at a time would get nothing but
 * refusals, one that sent more than it may would show it in the receiver's count.
 */
class SpanBatcherConcurrencyTest {
  private static final KernelClock CLOCK = KernelClock.withOffset(1_795_000_000_000_000_000L);
  private static final ProcessInfo NGINX = Exchanges.process(101, "nginx", null);

  private static SpanBatcher batcher(OtlpReceiver receiver, int concurrent) {
    ExportSettings settings = ExportSettings.defaults()
        .withEndpoint(ExportSettings.Protocol.GRPC, receiver.endpoint())
        .withBatching(1_000, 10, Duration.ofHours(1))
        .withConcurrentExports(concurrent)
        .withHeaders(Map.of(), "gzip", Duration.ofSeconds(20));
    OtlpSpanEncoder encoder = new OtlpSpanEncoder(CLOCK, new ExchangeFields(settings.scheme(), List.of()), f -> f,
        new ProcessResources("testhost"), InstrumentationScopeInfo.builder("spanwire").setVersion("test").build());
    return new SpanBatcher(SpanSender.of(settings), encoder, settings, wait -> { }, SpanBatcher.MAX_QUEUE_BYTES);
  }

  /** {@code n} exchanges, GET /item/0 .. n-1: ten to a batch. */
  private static void offer(SpanBatcher batcher, int n) {
    for (int i = 0; i < n; i++) {
      assertThat(batcher.offer(Exchanges.exchange(NGINX, Role.SERVER, 1, "GET /item/" + i + " HTTP/1.1\nHost: h\n\n",
          "HTTP/1.1 200 OK\nContent-Length: 0\n\n", (1_000 + i) * 1_000_000L, 1_000_000L))).isTrue();
    }
  }

  private static List<String> targets(OtlpReceiver receiver) {
    return receiver.spans().stream()
        .map(Span::getAttributesList)
        .map(OtlpReceiver::attributes)
        .map(a -> (String) a.get("http_target"))
        .sorted()
        .collect(Collectors.toList());
  }

  private static List<String> expectedTargets(int n) {
    return IntStream.range(0, n).mapToObj(i -> "/item/" + i).sorted().collect(Collectors.toList());
  }

  @Test
  void threeWorkersHaveThreeRequestsInFlightTogether() {
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      receiver.answerTraceRequestsInGroupsOf(3);
      SpanBatcher batcher = batcher(receiver, 3);
      try {
        offer(batcher, 30);
        Await.until("three batches answered together", Duration.ofSeconds(30), () -> batcher.exported() == 30);
        assertThat(receiver.mostTraceRequestsInFlight()).isEqualTo(3);
        assertThat(receiver.traceArrivalSpans()).containsExactly(10, 10, 10);
        assertThat(targets(receiver)).isEqualTo(expectedTargets(30));
        assertThat(batcher.failures()).isZero();
        assertThat(batcher.dropped()).isZero();
      } finally {
        batcher.shutdown(Duration.ofSeconds(5));
      }
    }
  }

  @Test
  void twoWorkersNeverHaveMoreThanTwoRequestsInFlight() {
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      receiver.answerTraceRequestsInGroupsOf(2);
      SpanBatcher batcher = batcher(receiver, 2);
      try {
        offer(batcher, 80); // eight batches, in pairs: a third in flight would make a pair of the wrong ones
        Await.until("eight batches answered in pairs", Duration.ofSeconds(40), () -> batcher.exported() == 80);
        assertThat(receiver.mostTraceRequestsInFlight()).isEqualTo(2);
        assertThat(receiver.traceArrivalSpans()).hasSize(8).containsOnly(10);
        assertThat(targets(receiver)).isEqualTo(expectedTargets(80));
        assertThat(batcher.failures()).isZero();
        assertThat(batcher.dropped()).isZero();
      } finally {
        batcher.shutdown(Duration.ofSeconds(5));
      }
    }
  }

  @Test
  void overOtlpHttpTwoWorkersHaveTwoRequestsInFlightTogether() throws Exception {
    // a server that answers a request only when a second is waiting with it (10 s, else 503)
    java.util.concurrent.CyclicBarrier pair = new java.util.concurrent.CyclicBarrier(2);
    java.util.List<Integer> spansPerRequest = new java.util.concurrent.CopyOnWriteArrayList<>();
    com.sun.net.httpserver.HttpServer server =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 16);
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.createContext("/v1/traces", exchange -> {
      byte[] body = exchange.getRequestBody().readAllBytes();
      if ("gzip".equals(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
        body = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(body)).readAllBytes();
      }
      var request = io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest.parseFrom(body);
      int status;
      try {
        pair.await(10, java.util.concurrent.TimeUnit.SECONDS);
        spansPerRequest.add(request.getResourceSpans(0).getScopeSpans(0).getSpansCount());
        status = 200;
      } catch (Exception alone) {
        pair.reset();
        status = 503;
      }
      exchange.sendResponseHeaders(status, -1);
      exchange.close();
    });
    server.start();
    ExportSettings settings = ExportSettings.defaults()
        .withEndpoint(ExportSettings.Protocol.HTTP_PROTOBUF, "http://127.0.0.1:" + server.getAddress().getPort())
        .withBatching(1_000, 10, Duration.ofHours(1))
        .withConcurrentExports(2)
        .withHeaders(Map.of(), "gzip", Duration.ofSeconds(20));
    OtlpSpanEncoder encoder = new OtlpSpanEncoder(CLOCK, new ExchangeFields(settings.scheme(), List.of()), f -> f,
        new ProcessResources("testhost"), InstrumentationScopeInfo.builder("spanwire").setVersion("test").build());
    SpanBatcher batcher = new SpanBatcher(SpanSender.of(settings), encoder, settings, wait -> { }, SpanBatcher.MAX_QUEUE_BYTES);
    try {
      offer(batcher, 40);
      Await.until("four batches answered in pairs", Duration.ofSeconds(30), () -> batcher.exported() == 40);
      assertThat(spansPerRequest).containsExactly(10, 10, 10, 10);
      assertThat(batcher.failures()).isZero();
    } finally {
      batcher.shutdown(Duration.ofSeconds(5));
      server.stop(0);
    }
  }

  @Test
  void oneWorkerSendsOneRequestAtATime() {
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      SpanBatcher batcher = batcher(receiver, 1);
      try {
        offer(batcher, 50);
        Await.until("five batches", Duration.ofSeconds(20), () -> batcher.exported() == 50);
        assertThat(receiver.mostTraceRequestsInFlight()).isEqualTo(1);
        assertThat(receiver.traceArrivalSpans()).containsExactly(10, 10, 10, 10, 10);
        assertThat(targets(receiver)).isEqualTo(expectedTargets(50));
      } finally {
        batcher.shutdown(Duration.ofSeconds(5));
      }
    }
  }

  @Test
  void shutdownWithBothWorkersWaitingOnTheEndpointCountsWhatItCouldNotSend() {
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      // groups of three that never fill: each of the two requests waits its 10 s, then is refused
      receiver.answerTraceRequestsInGroupsOf(3);
      SpanBatcher batcher = batcher(receiver, 2);
      offer(batcher, 45); // two batches in flight, 25 spans queued
      Await.until("two requests waiting", Duration.ofSeconds(10), () -> receiver.mostTraceRequestsInFlight() == 2);

      batcher.shutdown(Duration.ofMillis(500));

      assertThat(batcher.exported()).isZero();
      assertThat(batcher.dropped()).isEqualTo(45);
    }
  }
}
