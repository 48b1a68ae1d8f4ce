package dev.spanwire.exporter.protocol.http1;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Parser behaviour the llhttp corpus does not pin down. */
class Http1ParserTest {
  private final List<HttpMessage> messages = new ArrayList<>();
  private final List<Http1Error> errors = new ArrayList<>();

  private Http1Parser parser(Http1Parser.Mode mode, boolean headerLines, int body, int maxHead) {
    return new Http1Parser(mode, recorder(), dev.spanwire.exporter.protocol.HeaderSelection.product(headerLines), body, maxHead);
  }

  /** Collects into {@link #messages} and {@link #errors}. */
  private Http1Parser.Listener recorder() {
    return new Http1Parser.Listener() {
      @Override
      public void onMessage(HttpMessage message) {
        messages.add(message);
      }

      @Override
      public void onError(Http1Error error) {
        errors.add(error);
      }
    };
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static void feed(Http1Parser parser, String s) {
    byte[] b = bytes(s);
    parser.feed(b, 0, b.length, 0, 1);
  }

  /** Every position of every control byte in long values, where the 8-byte fast path must not hide it. */
  @ParameterizedTest
  @ValueSource(ints = {0x00, 0x01, 0x0b, 0x0c, 0x1f, 0x7f})
  void controlBytesInValuesAreRefusedAtAnyOffset(int control) {
    for (int at = 0; at < 24; at++) {
      messages.clear();
      errors.clear();
      StringBuilder value = new StringBuilder("v".repeat(24));
      value.setCharAt(at, (char) control);
      feed(parser(Http1Parser.Mode.REQUESTS, false, 0, 65536), "GET / HTTP/1.1\r\nX-Long: " + value + "\r\n\r\n");
      assertThat(errors).as("control 0x%02x at %d", control, at).containsExactly(Http1Error.INVALID_HEADER_VALUE);
      assertThat(messages).isEmpty();
    }
  }

  @Test
  void nonAsciiInTargetsIsRefusedAtAnyOffsetButAllowedInValues() {
    for (int at = 1; at < 20; at++) {
      messages.clear();
      errors.clear();
      StringBuilder target = new StringBuilder("/" + "p".repeat(20));
      target.setCharAt(at, (char) 0xe9);
      feed(parser(Http1Parser.Mode.REQUESTS, false, 0, 65536), "GET " + target + " HTTP/1.1\r\n\r\n");
      assertThat(errors).as("byte at %d", at).containsExactly(Http1Error.INVALID_TARGET);
    }
    messages.clear();
    errors.clear();
    feed(parser(Http1Parser.Mode.REQUESTS, true, 0, 65536), "GET / HTTP/1.1\r\nUser-Agent: caf\u00e9 client/1.0 (x)\r\nX-Other: \u00e9t\u00e9\tvalue\r\n\r\n");
    assertThat(errors).isEmpty();
    assertThat(messages.getFirst().userAgent()).isEqualTo("caf\u00e9 client/1.0 (x)");
    assertThat(messages.getFirst().headerLines()).containsExactly("User-Agent: caf\u00e9 client/1.0 (x)", "X-Other: \u00e9t\u00e9\tvalue");
  }

  @Test
  void oversizedHeaderBlockIsAnErrorAndMemoryStaysBounded() {
    Http1Parser parser = parser(Http1Parser.Mode.REQUESTS, true, 0, 1024);
    feed(parser, "GET / HTTP/1.1\r\nCookie: " + "c".repeat(5000) + "\r\n\r\n");
    assertThat(errors).containsExactly(Http1Error.HEAD_TOO_LARGE);
    assertThat(messages).isEmpty();
    // the next message after the error resyncs at its start
    feed(parser, "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n");
    assertThat(messages).extracting(HttpMessage::target).containsExactly("/ok");
  }

  @Test
  void longKeptValuesAreCut() {
    Http1Parser parser = parser(Http1Parser.Mode.REQUESTS, false, 0, 65536);
    feed(parser, "GET / HTTP/1.1\r\nUser-Agent: " + "a".repeat(20_000) + "\r\n\r\n");
    assertThat(messages.getFirst().userAgent()).hasSize(Http1Parser.MAX_VALUE_BYTES);
  }

  @Test
  void bodyCaptureKeepsTheFirstBytesAndSaysWhenCut() {
    Http1Parser parser = parser(Http1Parser.Mode.RESPONSES, false, 8, 65536);
    feed(parser, "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello world!");
    feed(parser, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    assertThat(new String(messages.get(0).bodyPrefix(), StandardCharsets.US_ASCII)).isEqualTo("hello wo");
    assertThat(messages.get(0).bodyPrefixCut()).isTrue();
    assertThat(new String(messages.get(1).bodyPrefix(), StandardCharsets.US_ASCII)).isEqualTo("abc");
    assertThat(messages.get(1).bodyPrefixCut()).isFalse();
  }

  @Test
  void repeatedHostAndUserAgentShareTheirStrings() {
    Http1Parser parser = parser(Http1Parser.Mode.REQUESTS, false, 0, 65536);
    feed(parser, "GET /1 HTTP/1.1\r\nHost: h.example\r\nUser-Agent: ua/1\r\n\r\nGET /2 HTTP/1.1\r\nHost: h.example\r\nUser-Agent: ua/1\r\n\r\nGET /3 HTTP/1.1\r\nHost: other\r\n\r\n");
    assertThat(messages.get(1).host()).isSameAs(messages.get(0).host());
    assertThat(messages.get(1).userAgent()).isSameAs(messages.get(0).userAgent());
    assertThat(messages.get(2).host()).isEqualTo("other");
  }

  @Test
  void headerValuesAreUtf8WhenTheyAreUtf8AndLatin1Otherwise() {
    Http1Parser parser = parser(Http1Parser.Mode.REQUESTS, true, 0, 4096);
    byte[] utf8 = "GET / HTTP/1.1\r\nUser-Agent: caf\u00e9-\u6f22\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.UTF_8);
    parser.feed(utf8, 0, utf8.length, 0, 1);
    byte[] latin1 = bytes("GET / HTTP/1.1\r\nUser-Agent: caf\u00e9\r\nHost: h\r\n\r\n"); // one byte 0xe9
    parser.feed(latin1, 0, latin1.length, utf8.length, 2);
    assertThat(messages).extracting(HttpMessage::userAgent).containsExactly("caf\u00e9-\u6f22", "caf\u00e9");
    assertThat(messages.getFirst().headerLines()).contains("User-Agent: caf\u00e9-\u6f22");
  }

  @Test
  void everyLossOfPlaceIsReportedOnce() {
    List<Long> lost = new ArrayList<>();
    Http1Parser parser = new Http1Parser(Http1Parser.Mode.RESPONSES, new Http1Parser.Listener() {
      @Override
      public void onMessage(HttpMessage message) {
        messages.add(message);
      }

      @Override
      public void onLost(long timestampNanos) {
        lost.add(timestampNanos);
      }
    });
    byte[] ok = bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    parser.feed(ok, 0, ok.length, 0, 10);
    parser.skip(40, ok.length, 20); // uncaptured bytes after a whole message: may be messages
    byte[] bad = bytes("HTTP/1.1 200 OK\nContent-Length: 0\n\n"); // bare LF
    parser.feed(bad, 0, bad.length, ok.length + 40, 30);
    parser.feed(ok, 0, ok.length, ok.length + 40 + bad.length, 40);
    parser.gap(10, 2 * ok.length + 40 + bad.length, 50);
    assertThat(lost).containsExactly(20L, 30L, 50L);
    assertThat(messages).hasSize(2);
  }

  private Http1Parser hinting(Http1Parser.Mode mode, int body, List<Long> ends) {
    return new Http1Parser(mode, new Http1Parser.Listener() {
      @Override
      public void onMessage(HttpMessage message) {
        messages.add(message);
      }

      @Override
      public void onBodyAhead(long end) {
        ends.add(end);
      }
    }, dev.spanwire.exporter.protocol.HeaderSelection.product(false), body, 65536);
  }

  /** A long body framed by length: once the prefix is full, the capture hears where it ends. */
  @Test
  void aLongBodyTellsWhereItEndsOnceItsPrefixIsFull() {
    List<Long> ends = new ArrayList<>();
    Http1Parser parser = hinting(Http1Parser.Mode.RESPONSES, 100, ends);
    String head = "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n"; // 17 + 25 + 2 bytes
    byte[] first = bytes(head + "x".repeat(50));
    parser.feed(first, 0, first.length, 1000, 1);
    assertThat(ends).as("the prefix wants 50 more bytes").isEmpty();
    byte[] more = bytes("y".repeat(60));
    parser.feed(more, 0, more.length, 1000 + first.length, 2);
    assertThat(ends).containsExactly(1000L + 44 + 1_000_000);
    parser.skip(500_000, 1000 + first.length + more.length, 3); // the kernel sent lengths only
    assertThat(ends).as("once per body").hasSize(1);
    parser.skip(1_000_000 - 110, 1000 + first.length + more.length + 500_000, 4);
    assertThat(messages).hasSize(1);
    assertThat(messages.getFirst().truncated()).as("the bytes skipped were only body past the prefix").isFalse();
    assertThat(new String(messages.getFirst().bodyPrefix(), StandardCharsets.ISO_8859_1)).isEqualTo("x".repeat(50) + "y".repeat(50));
  }

  /** Without a body prefix to keep, the first bytes after the head already tell; short rests do not. */
  @Test
  void chunksAndShortBodiesAreHintedOnlyWhenLong() {
    List<Long> ends = new ArrayList<>();
    Http1Parser parser = hinting(Http1Parser.Mode.REQUESTS, 0, ends);
    byte[] small = bytes("POST /a HTTP/1.1\r\nContent-Length: 20000\r\n\r\n" + "z".repeat(4000));
    parser.feed(small, 0, small.length, 0, 1);
    assertThat(ends).as("16,000 bytes left: not worth a hint").isEmpty();
    parser.skip(16000, small.length, 2);
    String chunked = "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + "30000\r\n"; // a 196,608-byte chunk
    byte[] second = bytes(chunked + "c".repeat(8));
    long at = small.length + 16000;
    parser.feed(second, 0, second.length, at, 3);
    assertThat(ends).containsExactly(at + chunked.length() + 0x30000);
    assertThat(messages).hasSize(1);
  }

  @Test
  void bodiesUnderCaptureShareTheBudgetAndGiveItBackWhenComplete() {
    var budget = new dev.spanwire.exporter.protocol.BodyBudget(1000);
    Http1Parser.Listener listener = recorder();
    var selection = dev.spanwire.exporter.protocol.HeaderSelection.product(false);
    Http1Parser a = new Http1Parser(Http1Parser.Mode.RESPONSES, listener, selection, 4096, 65536, budget);
    Http1Parser b = new Http1Parser(Http1Parser.Mode.RESPONSES, listener, selection, 4096, 65536, budget);
    feed(a, "HTTP/1.1 200 OK\r\nContent-Length: 900\r\n\r\n" + "a".repeat(800)); // holds 800, not complete
    feed(b, "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n" + "b".repeat(500)); // 200 left for it
    assertThat(budget.held()).as("b complete: its 200 given back once, a's 800 still held").isEqualTo(800);
    feed(a, "c".repeat(100)); // b gave its 200 back: room for a's last 100
    feed(b, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + "d".repeat(1000)); // the whole budget again
    assertThat(messages).hasSize(3);
    assertThat(new String(messages.get(0).bodyPrefix(), StandardCharsets.US_ASCII)).isEqualTo("b".repeat(200));
    assertThat(messages.get(0).bodyPrefixCut()).isTrue();
    assertThat(messages.get(0).bodyBytes()).isEqualTo(500);
    assertThat(new String(messages.get(1).bodyPrefix(), StandardCharsets.US_ASCII)).isEqualTo("a".repeat(800) + "c".repeat(100));
    assertThat(messages.get(1).bodyPrefixCut()).isFalse();
    assertThat(new String(messages.get(2).bodyPrefix(), StandardCharsets.US_ASCII)).isEqualTo("d".repeat(1000));
    assertThat(messages.get(2).bodyPrefixCut()).isFalse();
    assertThat(budget.held()).isZero();
    assertThat(errors).isEmpty();
  }
}
