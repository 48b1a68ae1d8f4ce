package dev.spanwire.exporter.otel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.exporter.exchange.ExchangeFields;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.testing.Exchanges;
import dev.spanwire.exporter.testing.OtlpReceiver;
import dev.spanwire.exporter.testing.OtlpReceiver.Answer;
import io.grpc.Status;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The retry waits themselves, without waiting them: the batcher's pause is a recorder here, so the
 * sequence of waits after each refusal of the real gRPC receiver is exact (1 s doubling to a cap of
 * 30 s; an endpoint's RetryInfo granted up to 5 minutes), where a test on the real clock could
 * only bound a few of them from below.
 */
class SpanBatcherBackoffTest {
  private static final KernelClock CLOCK = KernelClock.withOffset(1_795_000_000_000_000_000L);
  private static final ProcessInfo NGINX = Exchanges.process(101, "nginx", null);

  private static SpanBatcher batcher(int port, SpanBatcher.RetryPause pause) {
    return batcher(port, pause, SpanBatcher.MAX_QUEUE_BYTES);
  }

  private static SpanBatcher batcher(int port, SpanBatcher.RetryPause pause, long maxQueueBytes) {
    return batcher(port, pause, maxQueueBytes, 10);
  }

  private static SpanBatcher batcher(int port, SpanBatcher.RetryPause pause, long maxQueueBytes, int batchSize) {
    ExportSettings settings = ExportSettings.defaults()
        .withEndpoint(ExportSettings.Protocol.GRPC, "http://127.0.0.1:" + port)
        .withBatching(100, batchSize, Duration.ofHours(1))
        .withHeaders(Map.of(), "gzip", Duration.ofSeconds(2));
    OtlpSpanEncoder encoder = new OtlpSpanEncoder(CLOCK, new ExchangeFields(settings.scheme(), List.of()), f -> f,
        new ProcessResources("testhost"), InstrumentationScopeInfo.builder("spanwire").setVersion("test").build());
    return new SpanBatcher(SpanSender.of(settings), encoder, settings, pause, maxQueueBytes);
  }

  private static void offerBatch(SpanBatcher batcher) {
    for (int i = 0; i < 10; i++) {
      batcher.offer(Exchanges.exchange(NGINX, Role.SERVER, 1, "GET /item/" + i + " HTTP/1.1\nHost: h\n\n",
          "HTTP/1.1 200 OK\nContent-Length: 0\n\n", (1_000 + i) * 1_000_000L, 1_000_000L));
    }
  }

  private static Answer[] times(int n, Answer answer) {
    return Collections.nCopies(n, answer).toArray(Answer[]::new);
  }

  @Test
  void backoffDoublesFromOneSecondAndStopsGrowingAtThirtySeconds() {
    List<Duration> waits = new CopyOnWriteArrayList<>();
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      receiver.answerTraceRequests(times(8, Answer.refuse(Status.UNAVAILABLE.withDescription("down"))));
      SpanBatcher batcher = batcher(receiver.port(), waits::add);
      try {
        offerBatch(batcher);
        Await.until("the batch after eight refusals", Duration.ofSeconds(20), () -> batcher.exported() == 10);
        assertThat(waits).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4),
            Duration.ofSeconds(8), Duration.ofSeconds(16), Duration.ofSeconds(30), Duration.ofSeconds(30),
            Duration.ofSeconds(30));
        assertThat(receiver.traceArrivalSpans()).containsExactly(10, 10, 10, 10, 10, 10, 10, 10, 10);
        assertThat(batcher.failures()).isEqualTo(8);
        assertThat(batcher.dropped()).isZero();
      } finally {
        batcher.shutdown(Duration.ofSeconds(5));
      }
    }
  }

  @Test
  void anEndpointsRetryDelayIsGrantedUpToFiveMinutesAndTheBackoffGoesOnBeneathIt() {
    List<Duration> waits = new CopyOnWriteArrayList<>();
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      Answer throttled = Answer.refuse(Status.RESOURCE_EXHAUSTED.withDescription("slow down"), Duration.ofMillis(2_500));
      Answer tooLong = Answer.refuse(Status.UNAVAILABLE.withDescription("come back tomorrow"), Duration.ofHours(24));
      Answer plain = Answer.refuse(Status.UNAVAILABLE.withDescription("down"));
      receiver.answerTraceRequests(throttled, tooLong, plain, plain);
      SpanBatcher batcher = batcher(receiver.port(), waits::add);
      try {
        offerBatch(batcher);
        Await.until("the batch after four refusals", Duration.ofSeconds(20), () -> batcher.exported() == 10);
        // asked 2.5 s: granted; asked a day: five minutes; then the backoff, doubled at each retry
        // whether or not the endpoint named the wait (1 s, 2 s were spent under the asked delays)
        assertThat(waits).containsExactly(Duration.ofMillis(2_500), Duration.ofMinutes(5), Duration.ofSeconds(4),
            Duration.ofSeconds(8));
        assertThat(batcher.failures()).isEqualTo(4);
      } finally {
        batcher.shutdown(Duration.ofSeconds(5));
      }
    }
  }

  @Test
  void aRetryThatWouldEndAfterShutdownsDeadlineDropsTheBatchCountedWithoutWaiting() {
    List<Duration> waits = new CopyOnWriteArrayList<>();
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      receiver.answerTraceRequests(times(100, Answer.refuse(Status.UNAVAILABLE.withDescription("down"))));
      SpanBatcher batcher = batcher(receiver.port(), waits::add);
      offerBatch(batcher);
      Await.until("four refusals", Duration.ofSeconds(20), () -> batcher.failures() >= 4);
      // the next wait is 16 s or more; shutdown grants 3 s, so the batch is dropped at once
      batcher.shutdown(Duration.ofSeconds(3));
      assertThat(batcher.dropped()).isEqualTo(10);
      assertThat(batcher.exported()).isZero();
      assertThat(waits).allSatisfy(w -> assertThat(w).isLessThanOrEqualTo(Duration.ofSeconds(30)));
      assertThat(waits).startsWith(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4));
    }
  }

  @Test
  void whileTheEndpointIsDownExchangesWithBodiesAreDroppedAtTheQueuesByteBoundNotKeptByCount() throws Exception {
    java.util.concurrent.CountDownLatch endpointBack = new java.util.concurrent.CountDownLatch(1);
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      receiver.answerTraceRequests(Answer.refuse(Status.UNAVAILABLE.withDescription("down")));
      SpanBatcher batcher = batcher(receiver.port(), wait -> {
        try {
          endpointBack.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, 12L << 20);
      try {
        offerBatch(batcher); // ten without bodies: the batch refused once, its retry now waiting
        Await.until("the first refusal", Duration.ofSeconds(20), () -> batcher.failures() == 1);
        // thirty exchanges whose 1 MiB response body was captured, against a queue of 100 and 12 MiB:
        // eleven fit (11 MiB and their heads), the twelfth would pass 12 MiB
        byte[] body = new byte[1 << 20];
        java.util.Arrays.fill(body, (byte) 'x');
        int accepted = 0;
        for (int i = 0; i < 30; i++) {
          var e = Exchanges.exchange(NGINX, Role.SERVER, 1, "GET /big/" + i + " HTTP/1.1\nHost: h\n\n",
              "HTTP/1.1 200 OK\nContent-Length: 1048576\n\n", (2_000 + i) * 1_000_000L, 1_000_000L);
          if (batcher.offer(e.withMessages(e.request(), e.response().with(e.response().headers(), body)))) {
            accepted++;
          }
        }
        assertThat(accepted).isEqualTo(11);
        assertThat(batcher.dropped()).isEqualTo(19);
        assertThat(batcher.queued()).isEqualTo(11);
        endpointBack.countDown();
        batcher.shutdown(Duration.ofSeconds(20)); // exports what is queued: the batch size is 10, the delay an hour
        assertThat(batcher.exported()).isEqualTo(21);
        assertThat(batcher.dropped()).isEqualTo(19);
        assertThat(batcher.queued()).isZero();
      } finally {
        endpointBack.countDown();
        batcher.shutdown(Duration.ofSeconds(5));
      }
      List<String> bigTargets = receiver.spans().stream()
          .map(span -> String.valueOf(OtlpReceiver.attributes(span.getAttributesList()).get("http_target")))
          .filter(t -> t.startsWith("/big/")).distinct().sorted().toList();
      assertThat(bigTargets).containsExactly("/big/0", "/big/1", "/big/10", "/big/2", "/big/3", "/big/4", "/big/5",
          "/big/6", "/big/7", "/big/8", "/big/9");
    }
  }

  @Test
  void aBatchIsFullByTheHeapItsExchangesHoldAsWellAsByCount() {
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      // a batch of 100 and a delay of an hour: only the bytes can make these batches full
      SpanBatcher batcher = batcher(receiver.port(), wait -> {}, 64L << 20, 100);
      try {
        byte[] body = new byte[1 << 20];
        java.util.Arrays.fill(body, (byte) 'x');
        for (int i = 0; i < 9; i++) {
          var e = Exchanges.exchange(NGINX, Role.SERVER, 1, "GET /big/" + i + " HTTP/1.1\nHost: h\n\n",
              "HTTP/1.1 200 OK\nContent-Length: 1048576\n\n", (2_000 + i) * 1_000_000L, 1_000_000L);
          assertThat(batcher.offer(e.withMessages(e.request(), e.response().with(e.response().headers(), body)))).isTrue();
        }
        // 3 MiB a request: a third exchange of a 1 MiB body and its head would pass it
        Await.until("four requests", Duration.ofSeconds(20), () -> batcher.exported() == 8);
        assertThat(receiver.traceArrivalSpans()).containsExactly(2, 2, 2, 2);
      } finally {
        batcher.shutdown(Duration.ofSeconds(5));
      }
      assertThat(batcher.exported()).as("the ninth, sent at shutdown").isEqualTo(9);
      assertThat(receiver.traceArrivalSpans()).containsExactly(2, 2, 2, 2, 1);
    }
  }
}
