package dev.spanwire.exporter.protocol.http1;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.testing.Fuzz;
import dev.spanwire.exporter.protocol.HeaderSelection;
import dev.spanwire.exporter.testing.Mutator;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The parser alone on mutants of recorded streams and of start lines at the edges of their shapes:
 * fed in one piece it reports exactly what it reports fed one byte at a time (every message with
 * every field, every error, every loss, in order), in each mode, with and without all headers and
 * body prefixes kept. One byte at a time never takes a shortcut that needs more bytes in hand
 * (the start line read in one pass), so this holds the shortcuts to the byte-by-byte rules. After
 * an error both ways drop the rest of the input (one piece: its rest; single bytes: none starts a
 * message), so the whole sequence compares.
 */
class Http1ParserFuzzTest {
  private static final List<byte[]> SEEDS = new ArrayList<>();

  @BeforeAll
  static void seeds() throws IOException {
    for (String capture : List.of("curl-nginx-keepalive", "curl-nginx-head", "curl-nginx-304", "curl-nginx-chunked-upload",
        "curl-nginx-post", "curl-python-http10", "curl-python-chunked", "socat-nginx-pipelined")) {
      SEEDS.add(resource(capture + ".req"));
      SEEDS.add(resource(capture + ".resp"));
    }
    for (String text : List.of(
        "GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a HTTP/1.0\r\nHost: h\r\n\r\n",
        "GET /a HTTP/1.2\r\nHost: h\r\n\r\n",
        "GET /a HTTP/2.0\r\nHost: h\r\n\r\n",
        "GET /a\r\n",
        "get /a HTTP/1.1\r\nHost: h\r\n\r\n",
        "M-SEARCH * HTTP/1.1\r\nHost: h\r\n\r\n",
        "DESCRIBE rtsp://h/a RTSP/1.0\r\nCSeq: 1\r\n\r\n",
        "PLAY /a HTTP/1.1\r\nHost: h\r\n\r\n",
        "SOURCE /a ICE/1.0\r\nHost: h\r\n\r\n",
        "ABCDEFGHIJKLMNOP /a HTTP/1.1\r\nHost: h\r\n\r\n",
        "POST /" + "p".repeat(40) + "?q=1 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
        "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n Folded: x\r\n\r\n",
        "\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.0 404 Not Found\r\nConnection: close\r\n\r\nbody until close",
        "HTTP/1.1 204\r\nServer: s\r\n\r\n",
        "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 999 Something Long And Unusual With\ttab \u00e9 bytes\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nframes",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "HTTP/1.1 2OO OK\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\n")) {
      SEEDS.add(text.getBytes(StandardCharsets.ISO_8859_1));
    }
  }

  @Test
  void oneByteAtATimeReportsWhatOnePieceReports() {
    Fuzz.run("http1 parser", random -> {
      byte[] seed = SEEDS.get(random.nextInt(SEEDS.size()));
      byte[] input = random.nextInt(8) == 0 ? seed : Mutator.mutate(SEEDS, seed, random);
      Http1Parser.Mode mode = Http1Parser.Mode.values()[random.nextInt(3)];
      boolean allHeaders = random.nextBoolean();
      int body = random.nextBoolean() ? 0 : 16;
      int maxHead = random.nextInt(4) == 0 ? 24 + random.nextInt(40) : Http1Parser.DEFAULT_MAX_HEAD_BYTES;
      List<String> whole = run(input, input.length, mode, allHeaders, body, maxHead);
      List<String> bytes = run(input, 1, mode, allHeaders, body, maxHead);
      assertThat(whole).as("%s, all headers %s, body %d, head bound %d, input %s", mode, allHeaders, body, maxHead,
          HexFormat.of().formatHex(input)).isEqualTo(bytes);
    });
  }

  /** Everything the listener heard, in order, fed in pieces of {@code piece} bytes. */
  private static List<String> run(byte[] input, int piece, Http1Parser.Mode mode, boolean allHeaders, int body, int maxHead) {
    List<String> events = new ArrayList<>();
    Http1Parser.Listener listener = new Http1Parser.Listener() {
      @Override
      public Http1Parser.HeadAction onRequestHead(String method) {
        events.add("request head " + method);
        return Http1Parser.HeadAction.BODY;
      }

      @Override
      public Http1Parser.HeadAction onResponseHead(int statusCode) {
        events.add("response head " + statusCode);
        return statusCode == 101 ? Http1Parser.HeadAction.UPGRADE : Http1Parser.HeadAction.BODY;
      }

      @Override
      public void onMessage(HttpMessage m) {
        events.add(m.toString().replaceAll("bodyPrefix=\\[B@\\p{XDigit}+", "bodyPrefix=" + Arrays.toString(m.bodyPrefix())));
      }

      @Override
      public void onError(Http1Error error) {
        events.add("error " + error);
      }

      @Override
      public void onUpgrade() {
        events.add("upgrade");
      }

      @Override
      public void onLost(long timestampNanos) {
        events.add("lost " + timestampNanos);
      }
    };
    Http1Parser parser = new Http1Parser(mode, listener, HeaderSelection.product(allHeaders), body,
        maxHead);
    for (int at = 0; at < input.length; at += piece) {
      parser.feed(input, at, Math.min(piece, input.length - at), at, 7);
    }
    parser.close(9);
    return events;
  }

  private static byte[] resource(String name) {
    try (InputStream in = Http1ParserFuzzTest.class.getResourceAsStream("/captures/" + name)) {
      assertThat(in).as("capture %s", name).isNotNull();
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
