package dev.spanwire.exporter.otel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.Capabilities;
import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.bpf.ThreadNice;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.exporter.exchange.ExchangeFields;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.testing.Exchanges;
import dev.spanwire.exporter.testing.OtlpReceiver;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A span export worker that finds the queue behind at a batch's start runs at the catch-up nice
 * value until it starts one with the queue drained, as the kernel shows it in the worker's stat
 * line, against a real gRPC receiver that holds requests on command.
 */
class SpanBatcherCatchUpTest {
  private static final KernelClock CLOCK = KernelClock.withOffset(1_795_000_000_000_000_000L);
  private static final ProcessInfo NGINX = Exchanges.process(101, "nginx", null);
  /** The workers start at this value (raising one's own needs no privilege) and catch up at the other. */
  private static final int OWN_NICE = 10;
  private static final int CATCH_UP_NICE = 4;

  private static void offer(SpanBatcher batcher, int from, int n) {
    for (int i = from; i < from + n; i++) {
      assertThat(batcher.offer(Exchanges.exchange(NGINX, Role.SERVER, 1, "GET /item/" + i + " HTTP/1.1\nHost: h\n\n",
          "HTTP/1.1 200 OK\nContent-Length: 0\n\n", (1_000 + i) * 1_000_000L, 1_000_000L))).isTrue();
    }
  }

  /** The ids of this process's threads named like a span export worker ("spanwire-span-e", cut to 15 characters). */
  private static Set<String> workerThreads() throws IOException {
    Set<String> ids = new HashSet<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : tasks.toList()) {
        try {
          if (Files.readString(task.resolve("comm")).strip().equals("spanwire-span-e")) {
            ids.add(task.getFileName().toString());
          }
        } catch (IOException gone) {
          // a thread that ended meanwhile
        }
      }
    }
    return ids;
  }

  /** The thread's nice value as the kernel shows it: field 19 of its stat line. */
  private static int kernelNice(String tid) throws IOException {
    String stat = Files.readString(Path.of("/proc/self/task", tid, "stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Integer.parseInt(fields[19 - 3]);
  }

  @Test
  void aWorkerBehindRunsAtTheCatchUpValueUntilTheQueueHasDrained() throws Exception {
    try (OtlpReceiver receiver = OtlpReceiver.start()) {
      ExportSettings settings = ExportSettings.defaults()
          .withEndpoint(ExportSettings.Protocol.GRPC, receiver.endpoint())
          .withBatching(1_000, 10, Duration.ofHours(1))
          .withConcurrentExports(1)
          .withCatchUpNice(CATCH_UP_NICE)
          .withHeaders(Map.of(), "gzip", Duration.ofSeconds(30));
      OtlpSpanEncoder encoder = new OtlpSpanEncoder(CLOCK, new ExchangeFields(settings.scheme(), List.of()), f -> f,
          new ProcessResources("testhost"), InstrumentationScopeInfo.builder("spanwire").setVersion("test").build());
      Set<String> before = workerThreads();
      // a new thread takes its nice value from the one that starts it: the worker starts at OWN_NICE
      AtomicReference<SpanBatcher> made = new AtomicReference<>();
      Thread maker = Thread.ofPlatform().start(() -> {
        assertThat(ThreadNice.set(OWN_NICE)).isNull();
        made.set(new SpanBatcher(SpanSender.of(settings), encoder, settings, wait -> { }, SpanBatcher.MAX_QUEUE_BYTES));
      });
      maker.join();
      SpanBatcher batcher = made.get();
      // the JVM names a thread for the kernel from the thread itself, once it runs: after start returns
      Set<String> workers = new HashSet<>();
      Await.until("the worker named", Duration.ofSeconds(20), () -> {
        workers.clear();
        try {
          workers.addAll(workerThreads());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        workers.removeAll(before);
        return !workers.isEmpty();
      });
      assertThat(workers).hasSize(1);
      String worker = workers.iterator().next();
      assertThat(kernelNice(worker)).isEqualTo(OWN_NICE);
      try {
        receiver.holdTraceRequests();
        // the first batch goes out with the queue empty and is held at the receiver
        offer(batcher, 0, 10);
        Await.until("the first request held", Duration.ofSeconds(20), () -> receiver.traceRequestsArrived() == 1);
        // 300 of 1,000 wait: more than a quarter when the worker starts its next batch
        offer(batcher, 10, 300);
        receiver.allowTraceRequests(1);
        Await.until("the second request held", Duration.ofSeconds(20), () -> receiver.traceRequestsArrived() == 2);
        boolean mayLower = Capabilities.current().has(Capabilities.CAP_SYS_NICE);
        // held in its second send, the worker runs at the value it started that batch at
        assertThat(kernelNice(worker)).isEqualTo(mayLower ? CATCH_UP_NICE : OWN_NICE);
        receiver.releaseTraceRequests();
        Await.until("all 310 spans exported", Duration.ofSeconds(30), () -> batcher.exported() == 310);
        // it took its own value back at the batch that began with at most 125 (an eighth) waiting
        assertThat(kernelNice(worker)).isEqualTo(OWN_NICE);
        assertThat(batcher.catchUps()).isEqualTo(mayLower ? 1 : 0);
        assertThat(receiver.spans()).hasSize(310);
        assertThat(batcher.dropped()).isZero();
      } finally {
        receiver.releaseTraceRequests();
        batcher.shutdown(Duration.ofSeconds(10));
      }
    }
  }
}
