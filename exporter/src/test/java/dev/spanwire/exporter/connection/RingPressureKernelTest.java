package dev.spanwire.exporter.connection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.CaptureConfig;
import dev.spanwire.bpf.CaptureStats;
import dev.spanwire.bpf.SocketCapture;
import dev.spanwire.bpf.SocketEvent;
import dev.spanwire.bpf.SocketEventHandler;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import dev.spanwire.bpf.testing.Peers.Completed;
import dev.spanwire.bpf.testing.Peers.Server;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.testing.ExchangeRecorder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A ring buffer filling while user space is behind: the kernel copies each event's first 512 bytes
 * only once the ring is half full, so the streams keep their positions and nothing is lost. Made
 * to happen on purpose: the reader is held while a client uploads four 1 MiB bodies to nginx (no
 * skip hint can come, so every 4 KiB nginx reads of a body is an event): copied whole, the four
 * would need more than the 4 MiB ring and events would be lost; the first two fill half of it, and
 * the others' events are cut. Released, the reader pairs all four on both sides with their exact
 * sizes, without a gap, a lost event or a resynchronisation.
 */
@KernelTest
class RingPressureKernelTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final int MIB = 1 << 20;

  @TempDir Path www;
  @TempDir Path nginxWork;

  /** Passes events on once released; until then the ring buffer fills. */
  private static final class HeldReader implements SocketEventHandler {
    final CountDownLatch release = new CountDownLatch(1);
    private final SocketEventHandler next;

    HeldReader(SocketEventHandler next) {
      this.next = next;
    }

    private void waitForRelease() {
      try {
        release.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void onEvent(SocketEvent event) {
      waitForRelease();
      next.onEvent(event);
    }

    @Override
    public void afterBatch() {
      waitForRelease();
      next.afterBatch();
    }
  }

  private static final String UPLOADS = """
      import os, socket, sys
      port = int(sys.argv[1])
      body = os.urandom(1 << 20)
      for i in range(4):
          s = socket.create_connection(("127.0.0.1", port))
          s.sendall(b"POST /up/%d HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: %d\\r\\n\\r\\n" % (i, len(body)) + body)
          answer = b""
          while not answer.endswith(b"/up/%d" % i):
              answer += s.recv(4096)
          print(answer.split(b" ")[1].decode(), flush=True)
          s.close()
      """;

  @Test
  void aHalfFullRingBufferCutsCopiesInsteadOfLosingEvents() {
    ExchangeRecorder recorder = new ExchangeRecorder();
    try (SocketCapture capture = SocketCapture.load(CaptureConfig.defaults().withRingBufferBytes(4 * MIB));
        Server nginx = Peers.nginx(www, nginxWork, false,
            "client_max_body_size 2m; location /up { default_type text/plain; return 200 \"$uri\"; }")) {
      ConnectionTracker pipeline = new ConnectionTracker(recorder, PipelineSettings.defaults(), capture.connections());
      HeldReader held = new HeldReader(pipeline);
      capture.start(held);
      Completed python = Peers.run(TIMEOUT, Peers.python(), "-c", UPLOADS, Integer.toString(nginx.port())).assertSuccess();
      assertThat(python.out().lines().toList()).containsExactly("200", "200", "200", "200");
      CaptureStats whileHeld = capture.stats();
      held.release.countDown();

      Await.until("four uploads on each side", TIMEOUT,
          () -> recorder.of(python.pid()).size() == 4 && recorder.of(nginx.pid()).size() == 4,
          () -> "(client " + recorder.of(python.pid()) + ", server " + recorder.of(nginx.pid()) + ")");
      CaptureStats stats = capture.stats();
      assertThat(stats.eventsLost()).as("events lost").isZero();
      assertThat(whileHeld.pressureCut()).as("events copied short while the reader was held").isPositive();
      // nginx answers before it has read (and discarded) a whole body, so its last reads may still
      // be cut after the client is done; each cut event moved more than 512 of the bodies' bytes
      assertThat(stats.pressureCut()).isGreaterThanOrEqualTo(whileHeld.pressureCut()).isLessThan(4L * MIB / 512);
      for (long pid : List.of(python.pid(), nginx.pid())) {
        List<Exchange> exchanges = recorder.of(pid);
        // one connection after the other, but nginx may still be discarding a body when the next
        // upload's exchange completes: the order across connections is the order they completed in
        assertThat(exchanges).extracting(e -> e.request().method() + " " + e.request().target() + " -> " + e.statusCode())
            .containsExactlyInAnyOrder("POST /up/0 -> 200", "POST /up/1 -> 200", "POST /up/2 -> 200", "POST /up/3 -> 200");
        assertThat(exchanges).allSatisfy(e -> {
          assertThat(e.request().declaredLength()).isEqualTo(MIB);
          assertThat(e.request().bodyBytes()).isEqualTo(MIB);
          assertThat(e.response().declaredLength()).isEqualTo(5);
        });
      }
      PipelineStats pipelineStats = pipeline.stats();
      assertThat(pipelineStats.gaps()).isZero();
      assertThat(pipelineStats.resyncs()).isZero();
      assertThat(pipelineStats.parseErrors()).isZero();
    }
  }
}
