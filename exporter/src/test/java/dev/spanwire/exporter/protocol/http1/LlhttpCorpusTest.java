package dev.spanwire.exporter.protocol.http1;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.exporter.testing.Corpora;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The request and response cases of llhttp's test suite (../shared/corpora/llhttp), written by
 * people who never saw this parser. Every strict case must give llhttp's method, URL, status,
 * header count, body framing and length, and error or no error; fed whole, split at every byte
 * boundary, and byte by byte. Lenient cases test modes this parser does not have and are skipped.
 */
class LlhttpCorpusTest {
  private static final Pattern META = Pattern.compile("<!-- meta=(\\{.*?\\}) -->");
  private static final Pattern TYPE = Pattern.compile("\"type\"\\s*:\\s*\"([^\"]+)\"");
  private static final Pattern SPAN = Pattern.compile("off=\\d+ len=(\\d+) span\\[(\\w+)\\]=\"?(.*?)\"?$");
  private static final Pattern HEADERS_COMPLETE =
      Pattern.compile("headers complete (?:method=\\d+|status=(\\d+)) v=\\d+/\\d+ flags=([0-9a-f]+) content_length=(\\d+)");
  private static final Pattern ERROR = Pattern.compile("error code=(\\d+) reason=\"(.*)\"");
  private static final Pattern FINISH = Pattern.compile("finish=(\\d+)");

  private static int strict;
  private static int passed;
  private static int skipped;

  /** What llhttp reported for one message. */
  record Expected(String method, String url, int status, int headers, String framing, long body) {}

  /** One case: input bytes and llhttp's outcome. */
  record Case(String file, String title, String type, boolean skipBody, byte[] input, List<Expected> messages, boolean error, int finish) {
    boolean requests() {
      return type.startsWith("request");
    }

    boolean lenient() {
      return type.contains("lenient");
    }

    boolean finishes() {
      return type.endsWith("-finish");
    }
  }

  /** What this parser reported. */
  record Outcome(List<Expected> messages, boolean error, boolean truncatedLast) {}

  @TestFactory
  Stream<DynamicTest> strictCasesMatchLlhttp() throws IOException {
    Path root = Corpora.require("llhttp/test");
    List<Case> cases = new ArrayList<>();
    for (String dir : List.of("request", "response")) {
      try (Stream<Path> files = Files.list(root.resolve(dir))) {
        for (Path file : files.filter(f -> f.toString().endsWith(".md")).sorted().toList()) {
          cases.addAll(parseCases(file));
        }
      }
    }
    assertThat(cases).as("cases found in the corpus").hasSizeGreaterThan(200);
    return cases.stream()
        .map(c -> DynamicTest.dynamicTest(
            c.file() + ": " + c.title() + " [" + c.type() + "]",
            () -> {
              if (c.lenient()) {
                skipped++;
                org.junit.jupiter.api.Assumptions.abort("lenient mode " + c.type() + " is not implemented: the parser is strict");
              }
              strict++;
              try {
                check(c);
              } catch (AssertionError e) {
                throw new AssertionError(c.file() + ": " + c.title() + " [" + c.type() + "] " + e.getMessage(), e);
              }
              passed++;
            }));
  }

  @AfterAll
  static void report() {
    System.out.printf("llhttp corpus: %d/%d strict cases passed, %d lenient cases skipped%n", passed, strict, skipped);
  }

  private static void check(Case c) {
    Outcome whole = run(c, List.of(c.input()));
    if (c.finish() == 2) {
      assertThat(whole.error() || whole.truncatedLast()).as("unsafe finish: an error or a cut message").isTrue();
    } else {
      assertThat(whole.error()).as("error").isEqualTo(c.error());
    }
    if (!c.error()) {
      List<Expected> complete = whole.truncatedLast() && c.finish() == 2
          ? whole.messages().subList(0, whole.messages().size() - 1)
          : whole.messages();
      assertThat(complete).as("messages").isEqualTo(c.messages());
    } else {
      // the messages llhttp completed before the error must be the same
      assertThat(whole.messages()).as("messages before the error").isEqualTo(c.messages());
    }
    byte[] input = c.input();
    for (int split = 1; split < input.length; split++) {
      byte[] a = java.util.Arrays.copyOfRange(input, 0, split);
      byte[] b = java.util.Arrays.copyOfRange(input, split, input.length);
      assertThat(run(c, List.of(a, b))).as("split at %d", split).isEqualTo(whole);
    }
    List<byte[]> bytes = new ArrayList<>();
    for (byte value : input) {
      bytes.add(new byte[] {value});
    }
    assertThat(run(c, bytes)).as("byte by byte").isEqualTo(whole);
  }

  private static Outcome run(Case c, List<byte[]> chunks) {
    List<HttpMessage> messages = new ArrayList<>();
    boolean[] error = {false};
    Http1Parser parser =
        new Http1Parser(
            c.requests() ? Http1Parser.Mode.REQUESTS : Http1Parser.Mode.RESPONSES,
            new Http1Parser.Listener() {
              @Override
              public Http1Parser.HeadAction onResponseHead(int statusCode) {
                return c.skipBody() ? Http1Parser.HeadAction.NO_BODY : Http1Parser.HeadAction.BODY;
              }

              @Override
              public Http1Parser.HeadAction onRequestHead(String method) {
                return c.skipBody() ? Http1Parser.HeadAction.NO_BODY : Http1Parser.HeadAction.BODY;
              }

              @Override
              public void onMessage(HttpMessage message) {
                messages.add(message);
              }

              @Override
              public void onError(Http1Error e) {
                error[0] = true;
              }
            });
    long position = 0;
    for (byte[] chunk : chunks) {
      if (error[0]) {
        break;
      }
      parser.feed(chunk, 0, chunk.length, position, position);
      position += chunk.length;
    }
    if (c.finishes() && !error[0]) {
      parser.close(position);
    }
    boolean truncatedLast = !messages.isEmpty() && messages.getLast().truncated();
    return new Outcome(messages.stream().map(LlhttpCorpusTest::summary).toList(), error[0], truncatedLast);
  }

  /**
   * This parser's message as llhttp's events can tell it: a Content-Length body of no bytes reads
   * nothing, as no body does, so both are "none" (the body count still tells them apart from one
   * read wrongly).
   */
  private static Expected summary(HttpMessage m) {
    String framing = switch (m.framing()) {
      case CHUNKED -> "chunked";
      case LENGTH -> m.bodyBytes() > 0 ? "length" : "none";
      default -> "none";
    };
    return new Expected(m.method(), m.target(), m.statusCode(), m.headerCount(), framing, m.bodyBytes());
  }

  static List<Case> parseCases(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    List<Case> cases = new ArrayList<>();
    String title = "";
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.startsWith("#")) {
        title = line.replaceFirst("^#+\\s*", "");
        continue;
      }
      Matcher meta = META.matcher(line);
      if (!meta.find()) {
        continue;
      }
      Matcher type = TYPE.matcher(meta.group(1));
      assertThat(type.find()).as("type in %s", line).isTrue();
      boolean skipBody = meta.group(1).contains("\"skipBody\": true");
      int httpStart = indexOf(lines, "```http", i);
      int httpEnd = indexOf(lines, "```", httpStart + 1);
      int logStart = indexOf(lines, "```log", httpEnd + 1);
      int logEnd = indexOf(lines, "```", logStart + 1);
      byte[] input = input(lines.subList(httpStart + 1, httpEnd));
      cases.add(expected(file.getFileName().toString(), title, type.group(1), skipBody, input, lines.subList(logStart + 1, logEnd)));
      i = logEnd;
    }
    return cases;
  }

  private static int indexOf(List<String> lines, String prefix, int from) {
    for (int i = from; i < lines.size(); i++) {
      if (lines.get(i).startsWith(prefix)) {
        return i;
      }
    }
    throw new AssertionError("no " + prefix + " after line " + from);
  }

  /** The corpus rules: join backslash-newline, newline to CRLF, unescape \r \n \t \f \xHH. */
  static byte[] input(List<String> block) {
    String raw = String.join("\n", block);
    assertThat(raw).as("no ${...} repeats in this corpus version").doesNotContain("${");
    raw = raw.replace("\\\n", "").replace("\n", "\r\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '\\' && i + 1 < raw.length()) {
        char e = raw.charAt(i + 1);
        switch (e) {
          case 'r' -> { out.write('\r'); i++; continue; }
          case 'n' -> { out.write('\n'); i++; continue; }
          case 't' -> { out.write('\t'); i++; continue; }
          case 'f' -> { out.write('\f'); i++; continue; }
          case 'x' -> { out.write(Integer.parseInt(raw.substring(i + 2, i + 4), 16)); i += 3; continue; }
          default -> {}
        }
      }
      byte[] utf8 = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
      out.write(utf8, 0, utf8.length);
    }
    return out.toByteArray();
  }

  private static Case expected(String file, String title, String type, boolean skipBody, byte[] input, List<String> log) {
    List<Expected> messages = new ArrayList<>();
    StringBuilder method = null;
    StringBuilder url = null;
    int status = 0;
    int headers = 0;
    // the framing llhttp used, from its own events: chunk headers read, or body bytes read under a
    // Content-Length; bytes read until the close, or none read at all, are "none"
    boolean chunkHeader = false;
    boolean bodySpan = false;
    boolean contentLength = false;
    long body = 0;
    boolean error = false;
    int finish = 0;
    for (String line : log) {
      Matcher span = SPAN.matcher(line);
      if (line.contains("message begin")) {
        method = new StringBuilder();
        url = new StringBuilder();
        status = 0;
        headers = 0;
        chunkHeader = false;
        bodySpan = false;
        contentLength = false;
        body = 0;
      } else if (span.find()) {
        switch (span.group(2)) {
          case "method" -> method.append(span.group(3));
          case "url" -> url.append(span.group(3));
          case "body" -> {
            body += Long.parseLong(span.group(1));
            bodySpan = true;
          }
          default -> {}
        }
      } else if (line.contains("header_field complete")) {
        headers++;
      } else if (line.contains("headers complete")) {
        Matcher m = HEADERS_COMPLETE.matcher(line);
        assertThat(m.find()).as("headers complete line %s", line).isTrue();
        status = m.group(1) == null ? 0 : Integer.parseInt(m.group(1));
        contentLength = (Integer.parseInt(m.group(2), 16) & 0x20) != 0; // F_CONTENT_LENGTH
      } else if (line.contains("chunk header")) {
        chunkHeader = true;
      } else if (line.contains("message complete")) {
        boolean request = type.startsWith("request");
        String framing = framing(chunkHeader, bodySpan, contentLength);
        messages.add(new Expected(
            request ? method.toString() : null,
            request ? url.toString() : null,
            status,
            headers,
            framing,
            body));
      } else {
        Matcher e = ERROR.matcher(line);
        if (e.find()) {
          int code = Integer.parseInt(e.group(1));
          // 21-23: paused (user pause, CONNECT/Upgrade, PRI): not a parse error
          error |= code < 21 || code > 23;
        }
        Matcher f = FINISH.matcher(line);
        if (f.find()) {
          finish = Integer.parseInt(f.group(1));
        }
      }
    }
    // finish=1: closing completes the message under way (a body delimited by close)
    if (finish == 1 && messages.size() < countBegins(log)) {
      messages.add(new Expected(
          type.startsWith("request") ? method.toString() : null,
          type.startsWith("request") ? url.toString() : null,
          status,
          headers,
          framing(chunkHeader, bodySpan, contentLength),
          body));
    }
    return new Case(file, title, type, skipBody, input, messages, error, finish);
  }

  private static String framing(boolean chunkHeader, boolean bodySpan, boolean contentLength) {
    return chunkHeader ? "chunked" : bodySpan && contentLength ? "length" : "none";
  }

  private static int countBegins(List<String> log) {
    return (int) log.stream().filter(l -> l.contains("message begin")).count();
  }
}
