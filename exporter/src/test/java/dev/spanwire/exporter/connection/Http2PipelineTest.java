package dev.spanwire.exporter.connection;

import static dev.spanwire.exporter.testing.H2Wire.concat;
import static dev.spanwire.exporter.testing.H2Wire.data;
import static dev.spanwire.exporter.testing.H2Wire.frame;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.GrpcCall;
import dev.spanwire.exporter.testing.H2Wire;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 connections through the whole connection stage: frames and header blocks as Netty's
 * encoder writes them, expectations written out as literals.
 */
class Http2PipelineTest {
  @TempDir Path proc;

  private final RecordingSink sink = new RecordingSink();
  private final H2Wire client = new H2Wire();
  private final H2Wire server = new H2Wire();
  private final EventScript s = EventScript.server(1);
  private ConnectionTracker pipeline;

  @BeforeEach
  void pipeline() {
    pipeline = new ConnectionTracker(sink, PairingSettings.immediate(), new ProcessRegistry(proc), () -> 0);
  }

  private PipelineStats stats() {
    pipeline.afterBatch();
    return pipeline.stats();
  }

  private void in(byte[]... frames) {
    pipeline.onEvent(s.data(Direction.INGRESS, concat(frames)));
  }

  private void out(byte[]... frames) {
    pipeline.onEvent(s.data(Direction.EGRESS, concat(frames)));
  }

  private void start() {
    pipeline.onEvent(s.open(Role.SERVER));
    out(H2Wire.settings());
    in(H2Wire.PREFACE, H2Wire.settings());
  }

  private byte[] get(int stream, String path) {
    return client.headers(stream, true, ":method", "GET", ":scheme", "http", ":authority", "example.test", ":path", path,
        "user-agent", "nghttp2/1.52.0");
  }

  private byte[] status(int stream, String status, boolean end) {
    return server.headers(stream, end, ":status", status, "server", "nghttpd");
  }

  @Test
  void aPrefaceWrittenInPiecesTooShortToDetectIsFollowedThroughHttp1() {
    // found by PipelineFuzzTest: the first 7 bytes read as an HTTP/1 request line under way; the
    // HTTP/1 parser takes "PRI * HTTP/2.0" and its empty line, and HTTP/2 gets "SM\r\n\r\n"
    pipeline.onEvent(s.open(Role.SERVER));
    byte[] preface = H2Wire.PREFACE;
    in(java.util.Arrays.copyOfRange(preface, 0, 7));
    in(java.util.Arrays.copyOfRange(preface, 7, preface.length), H2Wire.settings(), get(1, "/pieces"));
    out(H2Wire.settings(), status(1, "200", true));
    assertThat(stats().exchanges()).isEqualTo(1);
    assertThat(sink.exchanges).singleElement().satisfies(e -> {
      assertThat(e.request().target()).isEqualTo("/pieces");
      assertThat(e.response().statusCode()).isEqualTo(200);
      assertThat(e.version()).isEqualTo("2.0");
    });
  }

  @Test
  void anEvictedConnectionCountsItsStreamsUnderWayAsUnpaired() {
    pipeline = new ConnectionTracker(sink, PairingSettings.immediate().withMaxConnections(1), new ProcessRegistry(proc), () -> 0);
    start();
    in(get(1, "/answered"), get(3, "/waits"), get(5, "/waits-too"));
    out(status(1, "200", true));
    // a second connection past the bound of one evicts this one, two requests still waiting
    pipeline.onEvent(EventScript.server(2).open(Role.SERVER));
    PipelineStats stats = stats();
    assertThat(stats.evictedConnections()).isEqualTo(1);
    assertThat(sink.summary()).containsExactly("GET /answered -> 200");
    assertThat(stats.exchanges()).isEqualTo(1);
    assertThat(stats.unpaired()).isEqualTo(2);
    assertThat(stats.unpairedRequests()).isEqualTo(2);
    assertThat(stats.unanswered()).isZero();
  }

  @Test
  void interleavedStreamsPairByStreamInTheOrderTheyEnd() {
    start();
    in(get(1, "/a"),
        client.headers(3, false, ":method", "POST", ":scheme", "http", ":authority", "example.test", ":path", "/b",
            "content-length", "5"),
        data(3, true, "hello"),
        get(5, "/c"));
    out(status(3, "201", false), status(5, "404", true), data(3, false, "abc"));
    out(data(3, true, "de"), status(1, "200", false), data(1, true, "0123456789"));

    assertThat(sink.summary()).containsExactly("GET /c -> 404", "POST /b -> 201", "GET /a -> 200");
    Exchange post = sink.exchanges.get(1);
    assertThat(post.version()).isEqualTo("2.0");
    assertThat(post.streamId()).isEqualTo(3);
    assertThat(post.request().authority()).isEqualTo("example.test");
    assertThat(post.request().declaredLength()).isEqualTo(5);
    assertThat(post.request().bodyBytes()).isEqualTo(5);
    assertThat(post.response().bodyBytes()).isEqualTo(5);
    assertThat(sink.exchanges.get(2).response().bodyBytes()).isEqualTo(10);
    assertThat(sink.exchanges.get(2).request().userAgent()).isEqualTo("nghttp2/1.52.0");
    assertThat(sink.requests).extracting(r -> r.target()).containsExactly("/a", "/b", "/c");
    PipelineStats stats = stats();
    assertThat(stats.exchanges()).isEqualTo(3);
    assertThat(stats.serverExchanges()).isEqualTo(3);
    assertThat(stats.hpackDesync()).isZero();
    assertThat(stats.parseErrors()).isZero();
  }

  @Test
  void grpcStatusComesFromTheTrailersOrATrailersOnlyResponse() {
    start();
    String[] call = {":method", "POST", ":scheme", "http", ":path", "/helloworld.Greeter/SayHello", ":authority", "localhost:50051",
        "content-type", "application/grpc", "te", "trailers", "grpc-timeout", "1S"};
    in(client.headers(1, false, call), data(1, true, new String(H2Wire.grpcMessage("hi".getBytes()), StandardCharsets.ISO_8859_1)));
    out(server.headers(1, false, ":status", "200", "content-type", "application/grpc"),
        frame(H2Wire.DATA, 0, 1, H2Wire.grpcMessage("hello hi".getBytes())),
        server.headers(1, true, "grpc-status", "5", "grpc-message", "no%20such%20greeting%20%E2%9C%93"));
    String[] unimplemented = call.clone();
    unimplemented[5] = "/helloworld.Greeter/Missing";
    in(client.headers(3, false, unimplemented), data(3, true, ""));
    out(server.headers(3, true, ":status", "200", "content-type", "application/grpc", "grpc-status", "12"));

    assertThat(sink.summary()).containsExactly("POST /helloworld.Greeter/SayHello -> 200", "POST /helloworld.Greeter/Missing -> 200");
    assertThat(GrpcCall.of(sink.exchanges.get(0)))
        .isEqualTo(new GrpcCall("helloworld.Greeter", "SayHello", 5, "no such greeting \u2713"));
    assertThat(GrpcCall.of(sink.exchanges.get(1))).isEqualTo(new GrpcCall("helloworld.Greeter", "Missing", 12, null));
    assertThat(sink.exchanges.get(0).response().bodyBytes()).isEqualTo(13);
    assertThat(stats().exchanges()).isEqualTo(2);
  }

  @Test
  void aStreamTheClientResetsEndsWithoutResponseAndOthersGoOn() {
    start();
    in(get(1, "/slow"), get(3, "/fast"));
    out(status(3, "200", true));
    in(H2Wire.rstStream(1, 8));
    out(status(1, "200", true)); // a late answer to the cancelled stream is not paired with anything

    assertThat(sink.summary()).containsExactly("GET /fast -> 200", "GET /slow -> none");
    PipelineStats stats = stats();
    assertThat(stats.http2Resets()).isEqualTo(1);
    assertThat(stats.unanswered()).isEqualTo(1);
    assertThat(stats.exchanges()).isEqualTo(1);
  }

  @Test
  void goawayEndsTheStreamsTheServerDidNotTake() {
    start();
    in(get(1, "/one"), get(3, "/two"), get(5, "/three"));
    out(H2Wire.goaway(1, 0), status(1, "200", true));
    pipeline.onEvent(s.close());

    assertThat(sink.summary()).containsExactly("GET /two -> none", "GET /three -> none", "GET /one -> 200");
    assertThat(stats().http2Resets()).isEqualTo(2);
  }

  @Test
  void serverPushIsTheExchangeOfThePromisedRequest() {
    start();
    in(get(1, "/index.html"));
    byte[] promise = server.block(":method", "GET", ":scheme", "http", ":authority", "example.test", ":path", "/style.css");
    out(frame(H2Wire.PUSH_PROMISE, H2Wire.END_HEADERS, 1, concat(new byte[] {0, 0, 0, 2}, promise)),
        status(1, "200", false), data(1, true, "<html>"), status(2, "200", false), data(2, true, "body{}"));

    assertThat(sink.summary()).containsExactly("GET /index.html -> 200", "GET /style.css -> 200");
    assertThat(sink.exchanges.get(1).streamId()).isEqualTo(2);
    assertThat(sink.exchanges.get(1).response().bodyBytes()).isEqualTo(6);
  }

  @Test
  void aHeaderBlockOverContinuationFramesIsReadWhole() {
    start();
    String big = "v".repeat(40_000);
    byte[] block = client.block(":method", "GET", ":scheme", "http", ":authority", "example.test", ":path", "/big",
        "x-big", big, "x-forwarded-for", "10.1.2.3");
    // HEADERS, then CONTINUATIONs of at most 16384 bytes, in separate writes
    int first = 16_384;
    in(frame(H2Wire.HEADERS, H2Wire.END_STREAM, 1, Arrays.copyOfRange(block, 0, first)));
    int at = first;
    while (at < block.length) {
      int end = Math.min(block.length, at + 16_384);
      in(frame(H2Wire.CONTINUATION, end == block.length ? H2Wire.END_HEADERS : 0, 1, Arrays.copyOfRange(block, at, end)));
      at = end;
    }
    out(status(1, "204", true));

    assertThat(sink.summary()).containsExactly("GET /big -> 204");
    assertThat(sink.exchanges.getFirst().request().xForwardedFor()).isEqualTo("10.1.2.3");
    assertThat(stats().http2CutHeaders()).isZero();
  }

  @Test
  void aHeaderFrameTheCaptureCutIsCountedAndNothingGuessed() {
    start();
    byte[] headers = client.headers(1, true, ":method", "GET", ":scheme", "http", ":authority", "example.test", ":path", "/cut",
        "x-long", "w".repeat(3000));
    pipeline.onEvent(s.truncated(Direction.INGRESS, headers, 1000));
    out(status(1, "200", true));
    in(get(3, "/after"));
    out(status(3, "200", true));

    // the cut block put :authority into the encoder's table: /after's :authority is a reference the
    // decoder cannot follow any more, so it stays unknown; its :method and :path are known
    assertThat(sink.summary()).containsExactly("GET /after -> 200");
    assertThat(sink.exchanges.getFirst().request().authority()).isNull();
    PipelineStats stats = stats();
    assertThat(stats.hpackDesync()).isEqualTo(1);
    assertThat(stats.http2CutHeaders()).isEqualTo(1);
  }

  /**
   * RFC 7540 section 3.2: an HTTP/1.1 request with Upgrade: h2c, a 101, then HTTP/2 with the
   * answer to that request on stream 1 (curl --http2's request, byte for byte).
   */
  @Test
  void anHttp1UpgradeToH2cIsAnsweredOnStreamOne() {
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET /a.txt HTTP/1.1\nHost: 127.0.0.1:18902\nUser-Agent: curl/7.88.1\nAccept: */*\n"
        + "Connection: Upgrade, HTTP2-Settings\nUpgrade: h2c\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\n\n"));
    pipeline.onEvent(s.data(Direction.EGRESS, concat(
        EventScript.http("HTTP/1.1 101 Switching Protocols\nConnection: Upgrade\nUpgrade: h2c\n\n"),
        H2Wire.settings(), status(1, "200", false), data(1, true, "alpha\n"))));
    in(H2Wire.PREFACE, H2Wire.settings(), get(3, "/b.txt"));
    out(status(3, "404", true));

    assertThat(sink.summary()).containsExactly("GET /a.txt -> 200", "GET /b.txt -> 404");
    Exchange upgraded = sink.exchanges.getFirst();
    assertThat(upgraded.version()).isEqualTo("2.0");
    assertThat(upgraded.streamId()).isEqualTo(1);
    assertThat(upgraded.request().userAgent()).isEqualTo("curl/7.88.1");
    assertThat(upgraded.response().bodyBytes()).isEqualTo(6);
    PipelineStats stats = stats();
    assertThat(stats.upgrades()).isEqualTo(1);
    assertThat(stats.exchanges()).as("no exchange for the 101 itself").isEqualTo(2);
    assertThat(stats.parseErrors()).isZero();
  }

  @Test
  void joinedMidConnectionTheDynamicTableIsUnknownAndNoValueIsGuessed() {
    // the connection's first exchange happened before the capture: the encoder's table holds its fields
    byte[] before = get(1, "/private/path");
    byte[] beforeAnswer = status(1, "200", true);
    pipeline.onEvent(s.openJoined(Role.SERVER));
    in(get(3, "/private/path"));
    out(status(3, "200", true));
    in(client.headers(5, true, ":method", "GET", ":scheme", "http", ":authority", "fresh.test", ":path", "/new-path"));
    out(server.headers(5, true, ":status", "302"));

    assertThat(before.length).isGreaterThan(0);
    assertThat(beforeAnswer.length).isGreaterThan(0);
    // :path of stream 3 is a dynamic-table reference: unknown, so the request is not reported;
    // stream 5's fields are literals (its :path new), so it is
    assertThat(sink.summary()).containsExactly("GET /new-path -> 302");
    PipelineStats stats = stats();
    assertThat(stats.hpackDesync()).isGreaterThan(0);
    assertThat(stats.http2UnknownMessages()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void streamBodiesUnderCaptureShareThePipelinesBudgetAndGiveItBack() {
    var budget = new dev.spanwire.exporter.protocol.BodyBudget(1000);
    pipeline = new ConnectionTracker(sink, PairingSettings.immediate().withBodyCaptureBytes(4096), new ProcessRegistry(proc),
        () -> 0, dev.spanwire.bpf.ConnectionTable.NONE, new dev.spanwire.exporter.counters.Counters(),
        dev.spanwire.exporter.protocol.Protocols.registered(), budget);
    start();
    in(get(1, "/one"), get(3, "/three"));
    out(status(1, "200", false), data(1, false, "a".repeat(800))); // stream 1 holds 800
    assertThat(budget.held()).isEqualTo(800);
    out(status(3, "200", false), data(3, true, "b".repeat(500))); // 200 were left
    assertThat(budget.held()).as("stream 3 complete: its 200 given back once, stream 1's 800 still held").isEqualTo(800);
    out(data(1, true, "c".repeat(100))); // stream 3 gave its 200 back
    in(get(5, "/five"));
    out(status(5, "200", false), data(5, true, "d".repeat(1000)));
    assertThat(sink.exchanges).extracting(e -> e.request().target()).containsExactly("/three", "/one", "/five");
    assertThat(new String(sink.exchanges.get(0).response().bodyPrefix(), StandardCharsets.US_ASCII)).isEqualTo("b".repeat(200));
    assertThat(sink.exchanges.get(0).response().bodyPrefixCut()).isTrue();
    assertThat(new String(sink.exchanges.get(1).response().bodyPrefix(), StandardCharsets.US_ASCII))
        .isEqualTo("a".repeat(800) + "c".repeat(100));
    assertThat(sink.exchanges.get(1).response().bodyPrefixCut()).isFalse();
    assertThat(new String(sink.exchanges.get(2).response().bodyPrefix(), StandardCharsets.US_ASCII)).isEqualTo("d".repeat(1000));
    assertThat(budget.held()).isZero();
    // a stream under way when the connection is dropped gives its share back too
    in(get(7, "/seven"));
    out(status(7, "200", false), data(7, false, "e".repeat(600)));
    assertThat(budget.held()).isEqualTo(600);
    pipeline.onEvent(s.close());
    assertThat(budget.held()).isZero();
  }
}
