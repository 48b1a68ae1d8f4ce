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

  /** The configuration's default is the regex the pipeline finds by a scan of the bytes. */
  @Test
  void theReferenceConfigurationsRegexIsTheDefault() {
    assertThat(dev.spanwire.exporter.config.ConfigLayers.reference().getString(dev.spanwire.exporter.config.Keys.PROTOCOL_REGEX))
        .isEqualTo(TracedConnections.DEFAULT_PROTOCOL);
  }

  /**
   * The default regex is found by a scan of the bytes, which must say what the regex engine says:
   * payloads made of what it matches, nearly matches (cut, a byte changed, lower case, another
   * version) and random bytes, placed anywhere, also across the end of the bytes it looks at.
   */
  @Test
  void theDefaultRegexsScanFindsWhatTheRegexFinds() {
    Pattern regex = Pattern.compile(TracedConnections.DEFAULT_PROTOCOL);
    String preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    List<String> pieces = new ArrayList<>(List.of("HTTP/1.0", "HTTP/1.1", "HTTP/1.2", "HTTP/1.3", "HTTP/1.", "HTTP/1",
        "HTTP/2.0", "http/1.1", "HTTP/11", "HTTPP/1.1", "HHTTP/1.1", "HTTP /1.1", "GET / ", "\r\n", " ", "H", "P", "PRI",
        "\u00ff\u0080", preface, preface.toLowerCase(java.util.Locale.ROOT)));
    for (int cut = 1; cut < preface.length(); cut += 3) {
      pieces.add(preface.substring(0, cut));
      pieces.add(preface.substring(0, cut) + "x" + preface.substring(cut + 1));
    }
    java.util.Random random = new java.util.Random(7);
    int matched = 0;
    int tries = 30_000;
    for (int t = 0; t < tries; t++) {
      StringBuilder text = new StringBuilder();
      if (random.nextInt(10) == 0) {
        // up to the end of what is looked at
        text.append("x".repeat(TracedConnections.DETECT_BYTES - random.nextInt(30)));
      }
      for (int parts = random.nextInt(6); parts > 0; parts--) {
        if (random.nextBoolean()) {
          text.append(pieces.get(random.nextInt(pieces.size())));
        } else {
          text.append((char) random.nextInt(256));
        }
      }
      byte[] payload = text.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
      int n = Math.min(payload.length, TracedConnections.DETECT_BYTES);
      boolean expected = regex.matcher(new String(payload, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1)).find();
      assertThat(TracedConnections.findsDefault(payload, n)).as("%s", text).isEqualTo(expected);
      matched += expected ? 1 : 0;
    }
    assertThat(matched).as("payloads the regex matched, of %d", tries).isBetween(tries / 10, tries * 9 / 10);
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
