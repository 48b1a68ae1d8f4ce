package dev.spanwire.exporter.connection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.Headers;
import dev.spanwire.exporter.exchange.Request;
import dev.spanwire.exporter.exchange.Response;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Byte streams recorded from real clients and servers (src/test/resources/captures, see
 * record.sh there) give the same exchanges however the bytes are cut into syscalls: whole, split
 * at every byte boundary of either direction, and in random chunkings.
 */
class RealCapturesTest {
  @TempDir Path proc;

  static Stream<String> captures() {
    return Stream.of(
        "curl-nginx-keepalive", "curl-nginx-head", "curl-nginx-304", "curl-nginx-chunked-upload",
        "curl-nginx-post", "curl-python-http10", "curl-python-chunked", "socat-nginx-pipelined");
  }

  /** What must not depend on chunking: everything but times and positions. */
  record Summary(String method, String target, String version, int status, String reason, long requestDeclared,
      long requestBody, boolean requestHasBody, long responseDeclared, long responseBody, boolean responseHasBody,
      String host, String userAgent, Headers requestHeaders, Headers responseHeaders, boolean truncated) {}

  static Summary summary(Exchange e) {
    Request q = e.request();
    Response r = e.response();
    return new Summary(q.method(), q.target(), e.version(), r == null ? 0 : r.statusCode(), r == null ? null : r.statusText(),
        q.declaredLength(), q.bodyBytes(), q.hasBody(), r == null ? -2 : r.declaredLength(), r == null ? -1 : r.bodyBytes(),
        r != null && r.hasBody(), q.authority(), q.userAgent(), q.headers(), r == null ? null : r.headers(),
        q.truncated() || (r != null && r.truncated()));
  }

  static byte[] resource(String name) throws IOException {
    try (InputStream in = RealCapturesTest.class.getResourceAsStream("/captures/" + name)) {
      assertThat(in).as("capture %s", name).isNotNull();
      return in.readAllBytes();
    }
  }

  /** The exchanges the client side reports when its streams arrive in these pieces. */
  private List<Summary> run(List<byte[]> requestPieces, List<byte[]> responsePieces) {
    RecordingSink sink = new RecordingSink();
    ConnectionTracker pipeline = new ConnectionTracker(sink, PairingSettings.immediate(), new ProcessRegistry(proc), () -> 0);
    EventScript s = EventScript.client(1);
    pipeline.onEvent(s.open(Role.CLIENT));
    // a client sends before it reads: all request bytes, then the response bytes
    for (byte[] piece : requestPieces) {
      pipeline.onEvent(s.data(Direction.EGRESS, piece));
    }
    for (byte[] piece : responsePieces) {
      pipeline.onEvent(s.data(Direction.INGRESS, piece));
    }
    pipeline.onEvent(s.close());
    pipeline.afterBatch();
    assertThat(pipeline.stats().parseErrors()).isZero();
    return sink.exchanges.stream().map(RealCapturesTest::summary).toList();
  }

  private static List<byte[]> split(byte[] bytes, int at) {
    return List.of(Arrays.copyOfRange(bytes, 0, at), Arrays.copyOfRange(bytes, at, bytes.length));
  }

  private static List<byte[]> randomPieces(byte[] bytes, Random random) {
    List<byte[]> pieces = new ArrayList<>();
    int i = 0;
    while (i < bytes.length) {
      int n = Math.min(bytes.length - i, 1 + random.nextInt(random.nextBoolean() ? 8 : 300));
      pieces.add(Arrays.copyOfRange(bytes, i, i + n));
      i += n;
    }
    return pieces;
  }

  @ParameterizedTest
  @MethodSource("captures")
  void anyChunkingGivesTheSameExchanges(String capture) throws IOException {
    byte[] request = resource(capture + ".req");
    byte[] response = resource(capture + ".resp");
    List<Summary> whole = run(List.of(request), List.of(response));
    assertThat(whole).as("exchanges in %s", capture).isNotEmpty().allSatisfy(e -> {
      assertThat(e.status()).isPositive();
      assertThat(e.truncated()).isFalse();
    });
    for (int at = 1; at < request.length; at++) {
      assertThat(run(split(request, at), List.of(response))).as("request split at %d", at).isEqualTo(whole);
    }
    for (int at = 1; at < response.length; at++) {
      assertThat(run(List.of(request), split(response, at))).as("response split at %d", at).isEqualTo(whole);
    }
    Random random = new Random(capture.hashCode());
    for (int round = 0; round < 50; round++) {
      assertThat(run(randomPieces(request, random), randomPieces(response, random))).as("random round %d", round).isEqualTo(whole);
    }
  }

  @ParameterizedTest
  @MethodSource("captures")
  void capturesHoldWhatTheirClientsDid(String capture) throws IOException {
    List<String> lines = run(List.of(resource(capture + ".req")), List.of(resource(capture + ".resp"))).stream()
        .map(e -> e.method() + " " + e.target() + " " + e.status())
        .toList();
    List<String> expected = switch (capture) {
      case "curl-nginx-keepalive" -> List.of("GET /a.txt 200", "GET /b.bin?x=1 200", "GET /missing 404");
      case "curl-nginx-head" -> List.of("HEAD /a.txt 200");
      case "curl-nginx-304" -> List.of("GET /a.txt 304");
      case "curl-nginx-chunked-upload", "curl-nginx-post" -> List.of("POST /echo 200");
      case "curl-python-http10" -> List.of("GET /a.txt 200");
      case "curl-python-chunked" -> List.of("GET /stream 200");
      case "socat-nginx-pipelined" -> List.of("GET /a.txt 200", "GET /missing 404", "HEAD /a.txt 200");
      default -> throw new AssertionError(capture);
    };
    assertThat(lines).isEqualTo(expected);
  }
}
