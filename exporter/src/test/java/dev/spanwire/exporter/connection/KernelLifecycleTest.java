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
