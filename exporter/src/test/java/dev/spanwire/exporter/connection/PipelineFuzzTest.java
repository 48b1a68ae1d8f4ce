package dev.spanwire.exporter.connection;

import static dev.spanwire.exporter.testing.H2Wire.concat;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.Headers;
import dev.spanwire.exporter.testing.H2Wire;
import dev.spanwire.exporter.testing.Mutator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import dev.spanwire.bpf.testing.Fuzz;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the whole per-connection pipeline (protocol detection, the HTTP/1 parser and pairing,
 * HTTP/2 frames, HPACK and streams) with mutants of recorded HTTP/1 conversations (the captures of
 * curl, nginx, python and socat) and of HTTP/2 conversations (HPACK from Netty's encoder). For every
 * mutant, on either side of the connection: nothing throws, what is reported stays within the
 * product's bounds, and the exchanges and counts are the same whether the bytes come in one piece
 * each way or cut into random syscalls. Inputs that ever failed are replayed from
 * src/test/resources/fuzz-regressions/pipeline (a request and a response file per case).
 * A failure names the case's input (hex) and its seed (see {@link Fuzz}).
 */
class PipelineFuzzTest {
  private static final int FIRST_WRITE = 24;
  private static final List<byte[][]> SEEDS = new ArrayList<>();
  private static final List<byte[]> ALL = new ArrayList<>();
  private static Path proc;

  @BeforeAll
  static void seeds() throws IOException {
    proc = Files.createTempDirectory("fuzz-proc");
    for (String capture : RealCapturesTest.captures().toList()) {
      add(RealCapturesTest.resource(capture + ".req"), RealCapturesTest.resource(capture + ".resp"));
    }
    H2Wire client = new H2Wire();
    H2Wire server = new H2Wire();
    add(concat(H2Wire.PREFACE, H2Wire.settings(),
            client.headers(1, true, ":method", "GET", ":scheme", "http", ":authority", "a.test", ":path", "/one", "user-agent", "nghttp2/1.52.0"),
            client.headers(3, false, ":method", "POST", ":scheme", "http", ":authority", "a.test", ":path", "/two?x=1", "content-length", "5"),
            H2Wire.data(3, true, "hello")),
        concat(H2Wire.settings(), server.headers(1, false, ":status", "200", "content-type", "text/plain"),
            H2Wire.data(1, true, "first"), server.headers(3, true, ":status", "404")));
    H2Wire grpcClient = new H2Wire();
    H2Wire grpcServer = new H2Wire();
    add(concat(H2Wire.PREFACE, H2Wire.settings(),
            grpcClient.headers(1, false, ":method", "POST", ":scheme", "http", ":authority", "g.test", ":path", "/pkg.Svc/Call",
                "content-type", "application/grpc", "te", "trailers", "grpc-timeout", "1S"),
            H2Wire.data(1, true, new String(H2Wire.grpcMessage("hi".getBytes()), java.nio.charset.StandardCharsets.ISO_8859_1))),
        concat(H2Wire.settings(), grpcServer.headers(1, false, ":status", "200", "content-type", "application/grpc"),
            H2Wire.frame(H2Wire.DATA, 0, 1, H2Wire.grpcMessage("hello".getBytes())),
            grpcServer.headers(1, true, "grpc-status", "0", "grpc-message", "")));
  }

  private static void add(byte[] requests, byte[] responses) {
    SEEDS.add(new byte[][] {requests, responses});
    ALL.add(requests);
    ALL.add(responses);
  }

  @AfterAll
  static void cleanUp() throws IOException {
    Files.deleteIfExists(proc);
  }

  /** One connection's two byte streams, how they are cut, and the side the agent sees. */
  record Conversation(byte[] requests, byte[] responses, long chunking, boolean serverSide) {
    @Override
    public String toString() {
      return "Conversation[requests=" + java.util.HexFormat.of().formatHex(requests) + ", responses="
          + java.util.HexFormat.of().formatHex(responses) + ", chunking=" + chunking + ", serverSide=" + serverSide + "]";
    }
  }

  @Test
  void anyMutantGivesTheSameBoundedExchangesHoweverItIsCut() {
    int[] framing = new int[2];
    Fuzz.run("pipeline", random -> {
      byte[][] seed = SEEDS.get(random.nextInt(SEEDS.size()));
      Conversation c = new Conversation(Mutator.mutate(ALL, seed[0], random), Mutator.mutate(ALL, seed[1], random),
          random.nextLong(), random.nextBoolean());
      Outcome whole = check(c);
      framing[whole.parseErrors() == 0 && whole.resyncs() == 0 ? 0 : 1]++;
    });
    // how many mutants kept their framing, so that the cut was compared with the whole
    System.out.printf("pipeline: framing kept in %d mutants, lost in %d%n", framing[0], framing[1]);
  }

  @Test
  void everyInputThatEverFailedStaysFixed() throws IOException {
    Path dir = Path.of("src/test/resources/fuzz-regressions/pipeline");
    if (!Files.isDirectory(dir)) {
      return; // nothing has failed yet
    }
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> requests = files.filter(f -> f.getFileName().toString().endsWith(".req")).sorted().toList();
      for (Path req : requests) {
        Path resp = req.resolveSibling(req.getFileName().toString().replace(".req", ".resp"));
        for (boolean server : new boolean[] {true, false}) {
          for (long chunking = 0; chunking < 20; chunking++) {
            check(new Conversation(Files.readAllBytes(req), Files.readAllBytes(resp), chunking, server));
          }
        }
      }
    }
  }

  /**
   * Whole against cut. Where the stream never lost its framing the outcome must not depend on the
   * cut at all; after a malformed message the parser resumes at the next syscall that begins with
   * a start line (a message starts a write), so there syscall boundaries rightly matter and only
   * the bounds are checked. What a connection speaks is decided on its first payload, as in the
   * kernel, so the first piece each way holds the first {@value #FIRST_WRITE} bytes (the HTTP/2
   * preface; an HTTP/1 head shorter than that is written whole).
   */
  private static Outcome check(Conversation c) {
    Outcome whole = run(c, List.of(c.requests()), List.of(c.responses()));
    Random random = new Random(c.chunking());
    Outcome cut = run(c, Mutator.pieces(c.requests(), random, FIRST_WRITE), Mutator.pieces(c.responses(), random, FIRST_WRITE));
    if (whole.parseErrors() == 0 && whole.resyncs() == 0) {
      assertThat(cut).as("cut into syscalls vs whole, %s", c).isEqualTo(whole);
    }
    return whole;
  }

  /** What a connection reported: its exchanges (all but times) and the pipeline's counts. */
  record Outcome(List<RealCapturesTest.Summary> exchanges, long requests, long responses, long unanswered, long unpaired,
      long parseErrors, long resyncs) {}

  private static Outcome run(Conversation c, List<byte[]> requestPieces, List<byte[]> responsePieces) {
    RecordingSink sink = new RecordingSink();
    ConnectionTracker pipeline = new ConnectionTracker(sink, PairingSettings.immediate(), new ProcessRegistry(proc), () -> 0);
    EventScript s = c.serverSide() ? EventScript.server(1) : EventScript.client(1);
    pipeline.onEvent(s.open(c.serverSide() ? Role.SERVER : Role.CLIENT));
    Direction requestDirection = c.serverSide() ? Direction.INGRESS : Direction.EGRESS;
    Direction responseDirection = c.serverSide() ? Direction.EGRESS : Direction.INGRESS;
    for (byte[] piece : requestPieces) {
      pipeline.onEvent(s.data(requestDirection, piece));
    }
    for (byte[] piece : responsePieces) {
      pipeline.onEvent(s.data(responseDirection, piece));
    }
    pipeline.onEvent(s.close());
    pipeline.afterBatch();
    pipeline.closeAll();
    long total = c.requests().length + (long) c.responses().length;
    assertThat((long) sink.exchanges.size()).as("exchanges from %d bytes", total).isLessThanOrEqualTo(total / 4 + 1);
    for (Exchange e : sink.exchanges) {
      bounded(e);
    }
    PipelineStats stats = pipeline.stats();
    return new Outcome(sink.exchanges.stream().map(RealCapturesTest::summary).toList(),
        stats.requests(), stats.responses(), stats.unanswered(), stats.unpaired(), stats.parseErrors(), stats.resyncs());
  }

  private static void bounded(Exchange e) {
    assertThat(e.request().target().length()).isLessThanOrEqualTo(8 * 1024);
    assertThat(e.request().method().length()).isLessThanOrEqualTo(8 * 1024);
    headers(e.request().headers());
    if (e.response() != null) {
      headers(e.response().headers());
    }
  }

  private static void headers(Headers headers) {
    if (headers != null) {
      assertThat(headers.size()).isLessThanOrEqualTo(Headers.MAX_FIELDS);
    }
  }
}
