package dev.spanwire.exporter.connection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which connections the pipeline follows: command filter, listed ports, protocol detection. */
class TracedConnectionsTest {
  @TempDir Path proc;

  private final List<String> detected = new ArrayList<>();
  private final RecordingSink sink = new RecordingSink() {
    @Override
    public void onDetected(ConnectionInfo connection, int fd, long timestampNanos) {
      detected.add(connection.id() + " fd " + fd);
    }
  };

  private ConnectionTracker pipeline(TracedConnections traced) {
    return new ConnectionTracker(sink, PairingSettings.immediate().withTraced(traced), new ProcessRegistry(proc), () -> 0L);
  }

  private static TracedConnections traced(String comm, Set<Integer> ports, boolean all, String regex, boolean events) {
    return new TracedConnections(comm == null ? null : Pattern.compile(comm), ports, all, Pattern.compile(regex), events);
  }

  private static void exchange(ConnectionTracker pipeline, EventScript s, String path) {
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET " + path + " HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(s.close());
    pipeline.afterBatch();
  }

  @Test
  void theDefaultRegexDetectsHttpOnAnyPortAndCanEmitEvents() {
    ConnectionTracker pipeline = pipeline(traced(null, Set.of(80), false, TracedConnections.DEFAULT_PROTOCOL, true));
    exchange(pipeline, new EventScript(1, 18080, 50001), "/detected");
    assertThat(sink.summary()).containsExactly("GET /detected -> 200");
    assertThat(detected).containsExactly("1 fd 5");
    assertThat(pipeline.stats().detected()).isEqualTo(1);
  }

  @Test
  void aConnectionOffTheListWhoseFirstPayloadDoesNotMatchIsLeftOut() {
    ConnectionTracker pipeline = pipeline(traced(null, Set.of(9000), false, "^NEVER", false));
    exchange(pipeline, new EventScript(1, 18080, 50001), "/unlisted");
    exchange(pipeline, new EventScript(2, 9000, 50002), "/listed");
    assertThat(sink.summary()).containsExactly("GET /listed -> 200");
    assertThat(detected).isEmpty();
    var stats = pipeline.stats();
    assertThat(stats.ignoredConnections()).isEqualTo(1);
    assertThat(stats.unknownConnection()).as("the ignored connection's later events are expected, not unknown").isZero();
  }

  @Test
  void anyPortFollowsEverythingAndTheListDoesNotNeedTheRegex() {
    ConnectionTracker pipeline = pipeline(traced(null, Set.of(), true, "^NEVER", false));
    exchange(pipeline, new EventScript(1, 18080, 50001), "/any");
    assertThat(sink.summary()).containsExactly("GET /any -> 200");
  }

  @Test
  void aPayloadWithoutBytesWaitsForOneWithBytes() {
    ConnectionTracker pipeline = pipeline(traced(null, Set.of(), false, TracedConnections.DEFAULT_PROTOCOL, false));
    EventScript s = new EventScript(1, 18080, 50001);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.data(Direction.INGRESS, new byte[0], 10)); // sendfile-like: size only, cannot tell
    pipeline.onEvent(s.in("GET /late HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.afterBatch();
    assertThat(sink.summary()).containsExactly("GET /late -> 200");
  }

  @Test
  void theCommandFilterLeavesOtherProcessesOut() {
    // EventScript's process is "server" (no /proc entry here: the kernel's name stands in)
    ConnectionTracker matching = pipeline(traced("^serv", Set.of(8080), false, TracedConnections.DEFAULT_PROTOCOL, false));
    exchange(matching, EventScript.server(1), "/kept");
    assertThat(sink.summary()).containsExactly("GET /kept -> 200");
    ConnectionTracker other = pipeline(traced("^nginx$", Set.of(8080), false, TracedConnections.DEFAULT_PROTOCOL, false));
    exchange(other, EventScript.server(2), "/dropped");
    assertThat(sink.summary()).containsExactly("GET /kept -> 200");
    assertThat(other.stats().ignoredConnections()).isEqualTo(1);
  }
}
