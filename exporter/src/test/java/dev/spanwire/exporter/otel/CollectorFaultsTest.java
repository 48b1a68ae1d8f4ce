package dev.spanwire.exporter.otel;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.testing.Exchanges;
import dev.spanwire.exporter.testing.OtlpReceiver;
import dev.spanwire.exporter.testing.OtlpReceiver.Answer;
import io.grpc.Status;
import io.opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A collector that misbehaves on command, over the real gRPC receiver and an HTTP one: throttling
 * with and without RetryInfo, size limits, permanent refusals, partial success, a receiver that
 * never answers, HTTP 429/503 with Retry-After. Every batch here is exactly full (10 spans, a
 * one-hour timer), so each request's span count is known.
 */
class CollectorFaultsTest {
  private static final long MS = 1_000_000L;
  private static final KernelClock CLOCK = KernelClock.withOffset(1_795_000_000_000_000_000L);
  private static final ProcessInfo NGINX = Exchanges.process(101, "nginx", null);
  private static final Duration TIMEOUT = Duration.ofSeconds(2);

  private static Exchange exchange(int i) {
    return Exchanges.exchange(NGINX, Role.SERVER, 1, "GET /item/" + i + " HTTP/1.1\nHost: h\n\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\n\n", (1_000 + i) * MS, MS);
  }

  private static OtelSink grpcSink(int port, int queue) {
    return grpcSink(port, queue, "gzip");
  }

  private static OtelSink grpcSink(int port, int queue, String compression) {
    return grpcSink(port, queue, compression, ExportSettings.DEFAULT_MAX_CONCURRENT_EXPORTS);
  }

  private static OtelSink grpcSink(int port, int queue, String compression, int concurrentExports) {
    return OtelSink.start(ExportSettings.defaults()
        .withEndpoint(ExportSettings.Protocol.GRPC, "http://127.0.0.1:" + port)
        .withBatching(queue, 10, Duration.ofHours(1))
        .withConcurrentExports(concurrentExports)
        .withMetricInterval(Duration.ofHours(1))
        .withHeaders(Map.of(), compression, TIMEOUT), CLOCK, "testhost", "test");
  }

  private static void offer(OtelSink sink, int from, int to) {
    for (int i = from; i < to; i++) {
      sink.spans().onExchange(exchange(i));
    }
  }

  @Test
  void aHungRequestHoldsOnlyItsOwnBatchTheOtherWorkerExportsTheRestMeanwhile() {
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      receiver.answerTraceRequests(Answer.hang());
      OtelSink sink = grpcSink(receiver.port(), 60, "gzip", 2);
      try {
        offer(sink, 0, 10);
        Await.until("the first request", Duration.ofSeconds(10), () -> receiver.traceArrivalSpans().size() == 1);
        offer(sink, 10, 60);
        Await.until("the other five batches, while the first hangs", Duration.ofSeconds(10), () -> sink.spansExported() == 50);
        long fiveDone = System.nanoTime();
        Await.until("the hung batch, sent again after its timeout", Duration.ofSeconds(30), () -> sink.spansExported() == 60);
        List<Long> at = receiver.traceArrivalNanos();
        assertThat(receiver.traceArrivalSpans()).containsExactly(10, 10, 10, 10, 10, 10, 10);
        assertThat((fiveDone - at.get(0)) / 1e9).as("seconds from the hung request to the other five answered")
            .isLessThan(TIMEOUT.toSeconds());
        assertThat(secondsBetween(at, 0, 6)).isGreaterThanOrEqualTo(TIMEOUT.toSeconds());
        assertThat(sink.exportFailures()).isEqualTo(1);
        assertThat(sink.spansDropped()).isZero();
      } finally {
        sink.shutdown();
      }
    }
  }

  private static double secondsBetween(List<Long> nanos, int a, int b) {
    return (nanos.get(b) - nanos.get(a)) / 1e9;
  }

  @Test
  void throttlingWithRetryInfoWaitsTheDelayTheCollectorAskedFor() {
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      receiver.answerTraceRequests(Answer.refuse(Status.RESOURCE_EXHAUSTED.withDescription("throttled"), Duration.ofMillis(3_500)));
      OtelSink sink = grpcSink(receiver.port(), 100);
      try {
        offer(sink, 0, 10);
        Await.until("the batch after the throttle", Duration.ofSeconds(20), () -> sink.spansExported() == 10);
        // the same whole batch again, no sooner than asked (the default backoff would be 1 s)
        assertThat(receiver.traceArrivalSpans()).containsExactly(10, 10);
        assertThat(secondsBetween(receiver.traceArrivalNanos(), 0, 1)).isGreaterThanOrEqualTo(3.5);
        assertThat(sink.exportFailures()).isEqualTo(1);
        assertThat(sink.spansDropped()).isZero();
        assertThat(sink.spansExported()).isEqualTo(10);
      } finally {
        sink.shutdown();
      }
    }
  }

  @Test
  void throttlingWithoutRetryInfoIsRetriedWholeWithGrowingBackoff() {
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      receiver.answerTraceRequests(Answer.refuse(Status.RESOURCE_EXHAUSTED.withDescription("too many requests")),
          Answer.refuse(Status.RESOURCE_EXHAUSTED.withDescription("too many requests")));
      OtelSink sink = grpcSink(receiver.port(), 100);
      try {
        offer(sink, 0, 10);
        Await.until("the batch after two throttles", Duration.ofSeconds(20), () -> sink.spansExported() == 10);
        // not split: a throttled collector is not asked for more requests
        assertThat(receiver.traceArrivalSpans()).containsExactly(10, 10, 10);
        List<Long> at = receiver.traceArrivalNanos();
        assertThat(secondsBetween(at, 0, 1)).isGreaterThanOrEqualTo(1.0);
        assertThat(secondsBetween(at, 1, 2)).isGreaterThanOrEqualTo(2.0);
        assertThat(sink.exportFailures()).isEqualTo(2);
        assertThat(sink.spansDropped()).isZero();
      } finally {
        sink.shutdown();
      }
    }
  }

  @Test
  void aRequestOverTheCollectorsMessageLimitIsSplitUntilEverySpanArrives() {
    // grpc-java's own refusal of a message over its limit: RESOURCE_EXHAUSTED "gRPC message
    // exceeds maximum size" (uncompressed here: a gzipped message over the limit makes grpc-java
    // fail in the service and answer UNKNOWN, which no client can read as "too large"; grpc-go,
    // the Collector's, answers RESOURCE_EXHAUSTED "larger than max" either way)
    String body = "y".repeat(16 * 1024);
    try (OtlpReceiver receiver = OtlpReceiver.startWithMessageLimit(40 * 1024)) {
      OtelSink sink = grpcSink(receiver.port(), 100, "none");
      try {
        for (int i = 0; i < 10; i++) {
          Exchange e = exchange(i);
          sink.spans().onExchange(e.withMessages(
              e.request().with(e.request().target(), e.request().headers(), body.getBytes(StandardCharsets.US_ASCII)), e.response()));
        }
        Await.until("all 10 spans", Duration.ofSeconds(30), () -> sink.spansExported() == 10,
            () -> "(arrivals " + receiver.traceArrivalSpans() + ", dropped " + sink.spansDropped() + ")");
        // a span is over 16 KiB: 10 refused, 5 refused, 2 taken, 3 refused, 1 and 2 taken, and
        // again for the other 5 (grpc-java refuses before the service sees a request: only the
        // taken ones arrive)
        assertThat(receiver.traceArrivalSpans()).containsExactly(2, 1, 2, 2, 1, 2);
        assertThat(sink.exportFailures()).isEqualTo(5);
        assertThat(receiver.traceRequests()).allSatisfy(r -> assertThat(r.getSerializedSize()).isLessThan(40 * 1024));
        assertThat(sink.spansDropped()).isZero();
        assertThat(sink.spansExported()).isEqualTo(10);
      } finally {
        sink.shutdown();
      }
    }
  }

  enum Permanent { INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND, UNIMPLEMENTED, FAILED_PRECONDITION, INTERNAL }

  @ParameterizedTest
  @EnumSource(Permanent.class)
  void aPermanentRefusalDropsTheBatchOnceAndExportGoesOn(Permanent code) {
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      receiver.failTraceRequests(Status.fromCode(Status.Code.valueOf(code.name())).withDescription("no"));
      OtelSink sink = grpcSink(receiver.port(), 100);
      try {
        offer(sink, 0, 10);
        Await.until("the refusal", Duration.ofSeconds(10), () -> sink.spansDropped() == 10);
        offer(sink, 10, 20);
        Await.until("the next batch", Duration.ofSeconds(10), () -> sink.spansExported() == 10);
        assertThat(receiver.traceArrivalSpans()).containsExactly(10, 10);
        assertThat(sink.spansRejected()).isEqualTo(10);
        assertThat(sink.exportFailures()).isEqualTo(1);
        assertThat(sink.spansExported()).isEqualTo(10);
      } finally {
        sink.shutdown();
      }
    }
  }

  @Test
  void rejectedSpansOfAPartialSuccessAreCountedAndLoggedOncePerMinute() {
    List<String> warnings = new CopyOnWriteArrayList<>();
    java.util.logging.Logger log = java.util.logging.Logger.getLogger(SpanBatcher.class.getName());
    java.util.logging.Handler handler = recorder(warnings);
    log.addHandler(handler);
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      receiver.answerTraceRequests(Answer.partialSuccess(3, "3 spans had bad ids"), Answer.partialSuccess(4, "4 spans had bad ids"));
      OtelSink sink = grpcSink(receiver.port(), 100);
      try {
        offer(sink, 0, 10);
        Await.until("the first answer", Duration.ofSeconds(10), () -> sink.spansExported() == 7);
        offer(sink, 10, 20);
        Await.until("the second answer", Duration.ofSeconds(10), () -> sink.spansExported() == 13);
        assertThat(sink.spansRejected()).isEqualTo(7);
        assertThat(sink.spansDropped()).isEqualTo(7);
        assertThat(sink.exportFailures()).isZero();
        assertThat(warnings).hasSize(1);
        assertThat(warnings.getFirst()).contains("rejected 3 of its 10 spans").contains("3 spans had bad ids");
      } finally {
        sink.shutdown();
      }
    } finally {
      log.removeHandler(handler);
    }
  }

  @Test
  void aCollectorThatNeverAnswersIsCutAtTheTimeoutAndCaptureNeverWaits() {
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      receiver.answerTraceRequests(Answer.hang());
      // one request at a time: the hung one holds the export until its timeout
      OtelSink sink = grpcSink(receiver.port(), 60, "gzip", 1);
      try {
        offer(sink, 0, 10);
        Await.until("the first request", Duration.ofSeconds(10), () -> receiver.traceArrivalSpans().size() == 1);
        // while the batch hangs the queue takes 60 and drops the rest at once
        long before = System.nanoTime();
        offer(sink, 10, 210);
        long offerMillis = (System.nanoTime() - before) / 1_000_000;
        assertThat(offerMillis).as("200 offers while the collector hangs (ms)").isLessThan(TIMEOUT.toMillis());
        assertThat(sink.spansDropped()).isEqualTo(140);
        Await.until("the hung batch and the queue", Duration.ofSeconds(30), () -> sink.spansExported() == 70,
            () -> "(arrivals " + receiver.traceArrivalSpans() + ")");
        List<Long> at = receiver.traceArrivalNanos();
        assertThat(receiver.traceArrivalSpans().subList(0, 2)).containsExactly(10, 10);
        assertThat(secondsBetween(at, 0, 1)).isGreaterThanOrEqualTo(TIMEOUT.toSeconds());
        assertThat(receiver.traceArrivalSpans()).containsExactly(10, 10, 10, 10, 10, 10, 10, 10);
        assertThat(sink.exportFailures()).isEqualTo(1);
        assertThat(sink.spansDropped()).isEqualTo(140);
      } finally {
        sink.shutdown();
      }
    }
  }

  @Test
  void httpTooManyRequestsAndUnavailableHonourRetryAfterInSecondsAndAsADate() throws Exception {
    WireMockServer wiremock = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
    wiremock.start();
    try {
      String date = ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(6).format(DateTimeFormatter.RFC_1123_DATE_TIME);
      wiremock.stubFor(post(urlEqualTo("/v1/traces")).inScenario("faults").whenScenarioStateIs(Scenario.STARTED)
          .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "3")).willSetStateTo("busy"));
      wiremock.stubFor(post(urlEqualTo("/v1/traces")).inScenario("faults").whenScenarioStateIs("busy")
          .willReturn(aResponse().withStatus(503).withHeader("Retry-After", date)).willSetStateTo("well"));
      byte[] partial = ExportTraceServiceResponse.newBuilder()
          .setPartialSuccess(ExportTracePartialSuccess.newBuilder().setRejectedSpans(2).setErrorMessage("two too old"))
          .build().toByteArray();
      wiremock.stubFor(post(urlEqualTo("/v1/traces")).inScenario("faults").whenScenarioStateIs("well")
          .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/x-protobuf").withBody(partial)));
      OtelSink sink = OtelSink.start(ExportSettings.defaults()
          .withEndpoint(ExportSettings.Protocol.HTTP_PROTOBUF, "http://127.0.0.1:" + wiremock.port())
          .withBatching(100, 10, Duration.ofHours(1))
          .withMetricInterval(Duration.ofHours(1))
          .withHeaders(Map.of(), "gzip", TIMEOUT), CLOCK, "testhost", "test");
      try {
        offer(sink, 0, 10);
        Await.until("the batch taken", Duration.ofSeconds(30), () -> sink.spansExported() == 8);
        List<LoggedRequest> requests = wiremock.findAll(postRequestedFor(urlEqualTo("/v1/traces")));
        assertThat(requests).hasSize(3);
        long first = requests.get(0).getLoggedDate().getTime();
        long second = requests.get(1).getLoggedDate().getTime();
        long third = requests.get(2).getLoggedDate().getTime();
        assertThat(second - first).as("after 429 Retry-After: 3 (ms)").isGreaterThanOrEqualTo(3_000);
        long dateMillis = ZonedDateTime.parse(date, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
        assertThat(third).as("after 503 Retry-After: " + date + " (epoch ms)").isGreaterThanOrEqualTo(dateMillis);
        assertThat(sink.exportFailures()).isEqualTo(2);
        assertThat(sink.spansRejected()).isEqualTo(2);
        assertThat(sink.spansDropped()).isEqualTo(2);
      } finally {
        sink.shutdown();
      }
    } finally {
      wiremock.stop();
    }
  }

  private static java.util.logging.Handler recorder(List<String> into) {
    return new java.util.logging.Handler() {
      @Override
      public void publish(java.util.logging.LogRecord r) {
        if (r.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
          into.add(java.text.MessageFormat.format(r.getMessage(), r.getParameters()));
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
  }
}
