package dev.spanwire.exporter.connection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.ConnectionTable;
import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.KernelConnection;
import dev.spanwire.bpf.ProcessExecuted;
import dev.spanwire.bpf.ProcessExited;
import dev.spanwire.bpf.Role;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the pipeline does when the kernel's view and its own part: connections it never saw open
 * or dropped, processes that exit or run another program, syscalls the kernel could not follow.
 * The kernel's table is an in-memory one here; the kernel tests use the real one.
 */
class KernelLifecycleTest {
  @TempDir Path proc;

  private final RecordingSink sink = new RecordingSink();
  private final Map<Long, KernelConnection> kernel = new HashMap<>();
  private final List<Long> forgotten = new ArrayList<>();
  private final ConnectionTable table = new ConnectionTable() {
    @Override
    public Optional<KernelConnection> find(long key, long connectionId) {
      return Optional.ofNullable(kernel.get(connectionId));
    }

    @Override
    public void forget(long key, long connectionId) {
      forgotten.add(connectionId);
      kernel.remove(connectionId);
    }
  };
  private long clock;

  private ConnectionTracker pipeline(PipelineSettings settings) {
    return new ConnectionTracker(sink, settings, new ProcessRegistry(proc), () -> clock, table);
  }

  private static String answer(String body) {
    return "HTTP/1.1 200 OK\nContent-Length: " + body.length() + "\n\n" + body;
  }

  private static String bodyOf(dev.spanwire.exporter.exchange.Exchange e) {
    return new String(e.response().bodyPrefix(), java.nio.charset.StandardCharsets.US_ASCII);
  }

  @Test
  void aConnectionWhoseOpenWasLostStartsBothStreamsWhereTheKernelDid() {
    // found under a 4 KiB ring buffer: the open event and the first exchange's answer were lost,
    // and each stream was taken to start at its first event, so a request seen before the loss
    // and an answer seen after it looked adjacent and were paired
    ConnectionTracker pipeline = pipeline(PairingSettings.immediate().withBodyCaptureBytes(16));
    EventScript s = EventScript.server(1);
    kernel.put(s.connectionId(), s.kernelEntry(Role.SERVER));
    pipeline.onEvent(s.in("GET /a HTTP/1.1\nHost: h\n\n"));
    s.lose(Direction.EGRESS, answer("/a").length() + 2);
    s.lose(Direction.INGRESS, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n".length());
    pipeline.onEvent(s.out(answer("/b")));
    pipeline.afterBatch();
    pipeline.onEvent(s.in("GET /c HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out(answer("/c")));
    pipeline.afterBatch();

    assertThat(sink.exchanges).singleElement().satisfies(e -> {
      assertThat(e.request().target()).isEqualTo("/c");
      assertThat(bodyOf(e)).isEqualTo("/c");
    });
    PipelineStats stats = pipeline.stats();
    assertThat(stats.reestablished()).isEqualTo(1);
    assertThat(stats.gaps()).as("the answer stream's lost start, /b's request").isEqualTo(2);
    assertThat(stats.unpaired()).as("/a dropped, /b's answer unpaired").isEqualTo(2);
  }

  @Test
  void heldEventsOfBothDirectionsGoToTheSessionInTheOrderTheyHappened() {
    // found under a 4 KiB ring buffer: both directions held an event behind a hole; the answer
    // stream was flushed first, its answer met no request and was dropped, and its request then
    // took the next answer
    ConnectionTracker pipeline = pipeline(PairingSettings.immediate().withBodyCaptureBytes(16));
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET /r1 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out(answer("/r1")));
    s.lose(Direction.INGRESS, "GET /r2 HTTP/1.1\r\nHost: h\r\n\r\n".length());
    s.lose(Direction.EGRESS, answer("/r2").length() + 2);
    pipeline.onEvent(s.in("GET /r3 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out(answer("/r3")));
    pipeline.afterBatch();
    pipeline.onEvent(s.in("GET /r4 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out(answer("/r4")));
    pipeline.afterBatch();

    assertThat(sink.exchanges).allSatisfy(e -> assertThat(bodyOf(e)).isEqualTo(e.request().target()));
    // /r3 is dropped: the answer stream lost bytes after it was sent, which may have answered it
    assertThat(sink.exchanges).extracting(e -> e.request().target()).containsExactly("/r1", "/r4");
    assertThat(pipeline.stats().gaps()).isEqualTo(2);
    assertThat(pipeline.stats().unpaired()).as("/r3, and /r3's answer").isEqualTo(2);
  }

  @Test
  void aConnectionWhoseEveryDataEventWasLostClosesWithItsGapsCounted() {
    // found by bench/soak.sh under heavy loss: the close's byte totals became gaps for a session
    // that never existed (no data decided its protocol), and the handler threw
    ConnectionTracker pipeline = pipeline(PairingSettings.immediate());
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(new dev.spanwire.bpf.ConnectionClosed(s.connectionId(), EventScript.PID, EventScript.PID + 1, 5,
        s.now() + 1000, 120, 80));
    pipeline.afterBatch();
    assertThat(sink.exchanges).isEmpty();
    assertThat(pipeline.stats().gaps()).isEqualTo(2);
    assertThat(pipeline.stats().gapBytes()).isEqualTo(200);
    assertThat(pipeline.stats().connections()).isZero();
  }

  @Test
  void aConnectionDroppedByThePipelineIsPickedUpAgainFromTheKernel() {
    ConnectionTracker pipeline = pipeline(PairingSettings.immediate().withIdleTimeout(java.time.Duration.ofSeconds(1)));
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET /before HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    clock = 60_000_000_000L;
    pipeline.afterBatch(); // idle: dropped
    assertThat(pipeline.stats().connections()).isZero();

    kernel.put(s.connectionId(), s.kernelEntry(Role.SERVER));
    pipeline.onEvent(s.in("GET /after HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 201 Created\nContent-Length: 0\n\n"));
    pipeline.afterBatch();

    assertThat(sink.summary()).containsExactly("GET /before -> 200", "GET /after -> 201");
    PipelineStats stats = pipeline.stats();
    assertThat(stats.reestablished()).isEqualTo(1);
    assertThat(stats.unknownConnection()).isZero();
    assertThat(stats.gaps()).as("the streams start where the pipeline met them again").isZero();
  }

  @Test
  void afterTheKernelLostEventsConnectionsItNoLongerHasAreClosed() {
    // found by bench/soak.sh: with half of its events lost at 2,000 new connections a second, the
    // closes lost among them left their connections (parsers, waiting requests) here until the
    // idle timeout, and the agent's 32 MiB heap ran out within a minute
    long[] lost = {0};
    List<Long> lookups = new ArrayList<>();
    ConnectionTable counting = new ConnectionTable() {
      @Override
      public Optional<KernelConnection> find(long key, long connectionId) {
        lookups.add(connectionId);
        return table.find(key, connectionId);
      }

      @Override
      public void forget(long key, long connectionId) {
        table.forget(key, connectionId);
      }
    };
    dev.spanwire.exporter.counters.Counters counters = new dev.spanwire.exporter.counters.Counters();
    counters.register(dev.spanwire.semconv.AgentMetric.EVENTS_LOST, () -> lost[0]);
    ConnectionTracker pipeline = new ConnectionTracker(sink, PairingSettings.immediate(), new ProcessRegistry(proc),
        () -> clock, counting, counters, dev.spanwire.exporter.protocol.Protocols.registered());
    // events at 1 s: a request waiting (its close lost), a silent connection the kernel still
    // has, an answered one (its close lost); at 4.5 s a request waiting on a connection also gone
    EventScript waiting = EventScript.server(1);
    EventScript alive = EventScript.server(2);
    EventScript answered = EventScript.server(3);
    EventScript recent = EventScript.server(4);
    pipeline.onEvent(waiting.open(Role.SERVER));
    pipeline.onEvent(waiting.in("GET /waiting HTTP/1.1\nHost: h\n\n"));
    for (EventScript s : List.of(alive, answered)) {
      pipeline.onEvent(s.open(Role.SERVER));
      pipeline.onEvent(s.in("GET /" + s.connectionId() + " HTTP/1.1\nHost: h\n\n"));
      pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    }
    recent.pause(3_500_000_000L);
    pipeline.onEvent(recent.open(Role.SERVER));
    pipeline.onEvent(recent.in("GET /recent HTTP/1.1\nHost: h\n\n"));
    kernel.put(alive.connectionId(), alive.kernelEntry(Role.SERVER));

    clock = 4_500_000_000L;
    pipeline.afterBatch();
    assertThat(lookups).as("nothing lost: the kernel's table is not read").isEmpty();
    assertThat(pipeline.stats().connections()).isEqualTo(4);

    lost[0] = 7;
    clock = 5_500_000_000L; // a second after the last check
    pipeline.afterBatch();
    // silent for a second, least recently active first; /recent was active at 4.5 s
    assertThat(lookups).containsExactly(1L, 2L, 3L);
    assertThat(sink.summary()).containsExactly("GET /2 -> 200", "GET /3 -> 200", "GET /waiting -> none");
    assertThat(pipeline.stats().closesRecovered()).isEqualTo(2);
    assertThat(pipeline.stats().connections()).isEqualTo(2);

    // the checks go on after the last loss, then stop
    for (long second = 6; second <= 9; second++) {
      clock = second * 1_000_000_000L + 500_000_000L;
      pipeline.afterBatch();
    }
    assertThat(lookups).containsExactly(1L, 2L, 3L, 2L, 4L, 2L);
    assertThat(sink.summary()).containsExactly("GET /2 -> 200", "GET /3 -> 200", "GET /waiting -> none", "GET /recent -> none");
    PipelineStats stats = pipeline.stats();
    assertThat(stats.closesRecovered()).isEqualTo(3);
    assertThat(stats.unanswered()).isEqualTo(2);
    assertThat(stats.connections()).as("the one the kernel has").isEqualTo(1);
    assertThat(forgotten).isEmpty();
  }

  @Test
  void dataOfAConnectionNeitherOpenNorInTheKernelIsCounted() {
    ConnectionTracker pipeline = pipeline(PairingSettings.immediate());
    EventScript s = EventScript.server(9);
    pipeline.onEvent(s.in("GET / HTTP/1.1\n\n"));
    pipeline.onEvent(s.in("GET / HTTP/1.1\n\n"));
    pipeline.afterBatch();
    assertThat(pipeline.stats().unknownConnection()).isEqualTo(2);
    assertThat(pipeline.stats().reestablished()).isZero();
  }

  @Test
  void aProcessExitClosesItsConnectionsWithTheKernelsTotals() {
    ConnectionTracker pipeline = pipeline(PairingSettings.immediate());
    EventScript answered = EventScript.client(1);
    pipeline.onEvent(answered.open(Role.CLIENT));
    pipeline.onEvent(answered.out("GET /waiting HTTP/1.1\nHost: h\n\n"));
    EventScript lost = EventScript.client(2);
    pipeline.onEvent(lost.open(Role.CLIENT));
    pipeline.onEvent(lost.out("GET /lost HTTP/1.1\nHost: h\n\n"));
    lost.lose(Direction.INGRESS, 40); // its answer was read, but the event lost
    kernel.put(answered.connectionId(), answered.kernelEntry(Role.CLIENT));
    kernel.put(lost.connectionId(), lost.kernelEntry(Role.CLIENT));

    pipeline.onEvent(new ProcessExited(EventScript.PID, EventScript.PID, answered.now() + 1000));
    pipeline.afterBatch();

    assertThat(sink.summary()).containsExactly("GET /waiting -> none");
    PipelineStats stats = pipeline.stats();
    assertThat(stats.unanswered()).isEqualTo(1);
    assertThat(stats.unpaired()).as("/lost: its answer was lost, not missing").isEqualTo(1);
    assertThat(stats.connections()).isZero();
    assertThat(stats.processExits()).isEqualTo(1);
    assertThat(forgotten).containsExactlyInAnyOrder(1L, 2L);

    // the socket capture reports each socket's end after the exit: known, not a loss
    pipeline.onEvent(answered.close());
    pipeline.onEvent(lost.close());
    assertThat(pipeline.stats().unknownConnection()).isZero();
  }

  @Test
  void execClosesTheSocketsItClosedAndRenamesTheProcess() throws Exception {
    Path fds = Files.createDirectories(proc.resolve(Integer.toString(EventScript.PID)).resolve("fd"));
    Files.writeString(proc.resolve(Integer.toString(EventScript.PID)).resolve("comm"), "old-name\n");
    ConnectionTracker pipeline = pipeline(PairingSettings.immediate());
    EventScript kept = EventScript.server(1);
    pipeline.onEvent(withFdAndIno(kept.open(Role.SERVER), 5, 1111));
    pipeline.onEvent(kept.in("GET /kept HTTP/1.1\nHost: h\n\n"));
    EventScript closed = EventScript.server(2);
    pipeline.onEvent(withFdAndIno(closed.open(Role.SERVER), 6, 2222));
    pipeline.onEvent(closed.in("GET /cloexec HTTP/1.1\nHost: h\n\n"));
    Files.createSymbolicLink(fds.resolve("5"), Path.of("socket:[1111]"));
    Files.createSymbolicLink(fds.resolve("6"), Path.of("/dev/null")); // fd 6 reused after exec
    Files.writeString(proc.resolve(Integer.toString(EventScript.PID)).resolve("comm"), "new-name\n");

    pipeline.onEvent(new ProcessExecuted(EventScript.PID, EventScript.PID, kept.now() + 1000));
    pipeline.onEvent(kept.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.afterBatch();

    assertThat(sink.summary()).containsExactlyInAnyOrder("GET /cloexec -> none", "GET /kept -> 200");
    assertThat(sink.exchanges.stream().filter(e -> e.response() != null).findFirst().orElseThrow()
        .connection().process().comm()).isEqualTo("new-name");
    assertThat(pipeline.stats().connections()).isEqualTo(1);
  }

  @Test
  void aSyscallTheKernelCouldNotFollowResynchronisesTheStream() {
    ConnectionTracker pipeline = pipeline(PairingSettings.immediate());
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET /1 HTTP/1.1\nHost: h\n\n"));
    // the answer to /1 went out in a write whose arguments found no room; the position did not move
    pipeline.onEvent(s.afterUnseenSyscall(Direction.EGRESS, "HTTP/1.1 404 Not Found\nContent-Length: 0\n\n"));
    pipeline.onEvent(s.in("GET /3 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 500 Internal Server Error\nContent-Length: 0\n\n"));
    pipeline.afterBatch();

    assertThat(sink.summary()).containsExactly("GET /3 -> 500");
    assertThat(pipeline.stats().gaps()).isEqualTo(1);
    assertThat(pipeline.stats().unpaired()).isEqualTo(2);
  }

  @Test
  void aSocketJoinedMidStreamPairsOnlyFromARequestItSaw() {
    ConnectionTracker pipeline = pipeline(PairingSettings.immediate());
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.openJoined(Role.SERVER));
    pipeline.onEvent(s.in("GET /1 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    assertThat(sink.summary()).containsExactly("GET /1 -> 200");
  }

  @Test
  void tlsPlaintextHasStreamsOfItsOwnAndTheCiphertextIsNotParsed() {
    ConnectionTracker pipeline = pipeline(PairingSettings.immediate());
    EventScript s = new EventScript(1, 50001, 443);
    pipeline.onEvent(s.open(Role.CLIENT));
    // the handshake on the socket: not HTTP, on a listed port, so parsed (and refused) as HTTP/1
    pipeline.onEvent(s.data(Direction.EGRESS, new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01}));
    // then the library's plaintext, from position 0, while encrypted records go on on the socket
    pipeline.onEvent(s.tls(Direction.EGRESS, "GET /secret HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.data(Direction.EGRESS, new byte[] {0x17, 0x03, 0x03, 0x00, 0x20}));
    pipeline.onEvent(s.tls(Direction.INGRESS, "HTTP/1.1 200 OK\nContent-Length: 2\n\nok"));
    pipeline.onEvent(s.close());
    pipeline.afterBatch();

    assertThat(sink.summary()).containsExactly("GET /secret -> 200");
    assertThat(sink.exchanges.getFirst().connection().scheme()).isEqualTo("https");
    assertThat(pipeline.stats().gaps()).as("the plaintext totals match its streams").isZero();
    assertThat(pipeline.stats().unpaired()).isZero();
  }

  private static dev.spanwire.bpf.ConnectionOpened withFdAndIno(dev.spanwire.bpf.ConnectionOpened o, int fd, long ino) {
    return new dev.spanwire.bpf.ConnectionOpened(o.connectionId(), o.pid(), o.tid(), fd, o.timestampNanos(), o.uid(), o.gid(),
        o.local(), o.remote(), o.role(), o.comm(), o.commandLine(), ino, false);
  }
}
