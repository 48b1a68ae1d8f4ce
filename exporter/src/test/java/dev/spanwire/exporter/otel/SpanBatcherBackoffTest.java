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
    ExportSettings settings = ExportSettings.defaults()
        .withEndpoint(ExportSettings.Protocol.GRPC, "http://127.0.0.1:" + port)
        .withBatching(100, 10, Duration.ofHours(1))
        .withHeaders(Map.of(), "gzip", Duration.ofSeconds(2));
    OtlpSpanEncoder encoder = new OtlpSpanEncoder(CLOCK, new ExchangeFields(settings.scheme(), List.of()), f -> f,
        new ProcessResources("testhost"), InstrumentationScopeInfo.builder("spanwire").setVersion("test").build());
    return new SpanBatcher(SpanSender.of(settings), encoder, settings, pause);
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
}
