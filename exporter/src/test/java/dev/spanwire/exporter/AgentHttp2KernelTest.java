package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import dev.spanwire.bpf.testing.Peers.Completed;
import dev.spanwire.bpf.testing.Peers.Server;
import dev.spanwire.exporter.testing.H2Wire;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.Socket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 without TLS (h2c) as a user of the agent sees it, with peers nobody here wrote: node's
 * http2 (nghttp2), nghttpd, nghttp, curl, nginx and h2load.
 */
@KernelTest
class AgentHttp2KernelTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private static Path peer(String name) {
    try {
      return Path.of(AgentHttp2KernelTest.class.getResource("/peers/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long counter(String log, String name) {
    Matcher m = Pattern.compile("[,:] " + Pattern.quote(name) + " (\\d+)").matcher(log);
    long last = -1;
    while (m.find()) {
      last = Long.parseLong(m.group(1));
    }
    assertThat(last).as("counter '%s' in the agent's log:%n%s", name, log).isNotNegative();
    return last;
  }

  private static List<String> summary(List<JsonNode> responses) {
    return responses.stream()
        .map(e -> e.at("/body/data/http_target").asText() + " " + e.at("/body/data/http_status_code").asInt()
            + " stream " + e.at("/body/data/http_stream").asInt() + " " + e.at("/body/data/http_flavor").asText())
        .sorted().toList();
  }

  /**
   * Four streams on one connection, one of them cancelled by the client (RST_STREAM), one with
   * trailers, then GOAWAY: both sides' events, each stream's own status.
   */
  @Test
  void concurrentStreamsACancelAndTrailersOnBothSides(@TempDir Path work) throws Exception {
    Peers.require("node");
    try (AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "json", "--otlp-endpoint", "none", "--comm", "^node$");
        Server server = Peers.server(List.of("node", peer("h2_node.js").toString(), "server"), Map.of())) {
      Completed client = Peers.run(TIMEOUT, "node", peer("h2_node.js").toString(), "client", server.url("")).assertSuccess();
      assertThat(client.out().lines().sorted().toList()).containsExactly("/hello 200", "/missing 404", "/trailers 200");
      // node opens the streams in the order it asks: /slow 1, /hello 3, /missing 5, /trailers 7
      List<String> expected = List.of("/hello 200 stream 3 2.0", "/missing 404 stream 5 2.0", "/trailers 200 stream 7 2.0");
      for (long pid : List.of(client.pid(), server.pid())) {
        Await.until("three http-resp events of " + pid, TIMEOUT, () -> agent.events(pid, "http-resp").size() >= 3, agent::logText);
        assertThat(summary(agent.events(pid, "http-resp"))).as("responses of %d", pid).isEqualTo(expected);
        assertThat(agent.events(pid, "http-req")).extracting(e -> e.at("/body/data/http_target").asText())
            .containsExactlyInAnyOrder("/slow", "/hello", "/missing", "/trailers");
      }
      agent.stop();
      String log = agent.logText();
      assertThat(counter(log, "HTTP/2 resets")).as("the cancelled /slow, seen on both sides").isEqualTo(2);
      assertThat(counter(log, "unanswered")).as("/slow on both sides").isEqualTo(2);
      assertThat(counter(log, "parse errors")).isZero();
      assertThat(counter(log, "hpack desync")).isZero();
    }
  }

  /**
   * nghttpd serving files to curl (prior knowledge) and to nghttp (three streams at once, one
   * with a header block over 16 KiB that nghttp2 sends as HEADERS and CONTINUATION).
   */
  @Test
  void nghttpdWithCurlAndNghttpIncludingContinuation(@TempDir Path www, @TempDir Path work) throws Exception {
    Peers.require("nghttpd");
    Peers.require("nghttp");
    Files.writeString(www.resolve("a.txt"), "alpha\n");
    Files.writeString(www.resolve("b.txt"), "bravo bravo\n");
    Server server = Peers.startListening(p -> List.of("nghttpd", "--no-tls", "-d", www.toString(), Integer.toString(p)));
    int port = server.port();
    Process nghttpd = server.process();
    try (AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "json", "--otlp-endpoint", "none")) {
      String base = "http://127.0.0.1:" + port;
      Completed curl = Peers.run(TIMEOUT, "curl", "-sS", "--http2-prior-knowledge", base + "/a.txt").assertSuccess();
      assertThat(curl.out()).isEqualTo("alpha\n");
      String big = "x".repeat(20_000);
      Completed nghttp = Peers.run(TIMEOUT, "nghttp", "-n", "-H", "x-big: " + big,
          base + "/a.txt", base + "/b.txt", base + "/none.txt").assertSuccess();

      Await.until("curl's exchange", TIMEOUT, () -> agent.events(curl.pid(), "http-resp").size() == 1, agent::logText);
      assertThat(summary(agent.events(curl.pid(), "http-resp"))).containsExactly("/a.txt 200 stream 1 2.0");
      JsonNode curlResponse = agent.events(curl.pid(), "http-resp").getFirst().at("/body/data");
      assertThat(curlResponse.get("http_response_content_length").asLong()).isEqualTo(6);
      assertThat(curlResponse.get("http_host").asText()).isEqualTo("127.0.0.1:" + port);

      Await.until("nghttp's three exchanges", TIMEOUT, () -> agent.events(nghttp.pid(), "http-resp").size() == 3, agent::logText);
      assertThat(summary(agent.events(nghttp.pid(), "http-resp")))
          .containsExactly("/a.txt 200 stream 13 2.0", "/b.txt 200 stream 15 2.0", "/none.txt 404 stream 17 2.0");
      Await.until("nghttpd's four exchanges", TIMEOUT, () -> agent.events(nghttpd.pid(), "http-resp").size() == 4, agent::logText);
      assertThat(agent.events(nghttpd.pid(), "http-resp")).extracting(e -> e.at("/body/data/http_target").asText())
          .containsExactlyInAnyOrder("/a.txt", "/a.txt", "/b.txt", "/none.txt");
      agent.stop();
      String log = agent.logText();
      assertThat(counter(log, "HTTP/2 header frames cut")).isZero();
      assertThat(counter(log, "hpack desync")).isZero();
      assertThat(counter(log, "parse errors")).isZero();
    } finally {
      nghttpd.destroy();
      nghttpd.waitFor(5, TimeUnit.SECONDS);
    }
  }

  /** nginx speaking h2c (prior knowledge) to curl and to nghttp's concurrent streams: both sides. */
  @Test
  void nginxH2cWithCurlAndNghttp(@TempDir Path www, @TempDir Path work) throws Exception {
    Peers.require("nghttp");
    Files.writeString(www.resolve("a.txt"), "alpha\n");
    Files.writeString(www.resolve("b.txt"), "bravo bravo\n");
    try (Server nginx = Peers.nginx(www, work, false, "", null, true);
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "json", "--otlp-endpoint", "none")) {
      Completed curl = Peers.run(TIMEOUT, "curl", "-sS", "--http2-prior-knowledge", nginx.url("/b.txt")).assertSuccess();
      assertThat(curl.out()).isEqualTo("bravo bravo\n");
      Completed nghttp = Peers.run(TIMEOUT, "nghttp", "-n", nginx.url("/a.txt"), nginx.url("/b.txt"), nginx.url("/none"))
          .assertSuccess();
      Await.until("curl's exchange", TIMEOUT, () -> agent.events(curl.pid(), "http-resp").size() == 1, agent::logText);
      assertThat(summary(agent.events(curl.pid(), "http-resp"))).containsExactly("/b.txt 200 stream 1 2.0");
      assertThat(agent.events(curl.pid(), "http-resp").getFirst().at("/body/data/http_response_content_length").asLong())
          .isEqualTo(12);
      Await.until("nghttp's exchanges", TIMEOUT, () -> agent.events(nghttp.pid(), "http-resp").size() == 3, agent::logText);
      assertThat(summary(agent.events(nghttp.pid(), "http-resp")))
          .containsExactly("/a.txt 200 stream 13 2.0", "/b.txt 200 stream 15 2.0", "/none 404 stream 17 2.0");
      Await.until("nginx's four exchanges", TIMEOUT, () -> agent.events(nginx.pid(), "http-resp").size() == 4, agent::logText);
      assertThat(summary(agent.events(nginx.pid(), "http-resp"))).containsExactly(
          "/a.txt 200 stream 13 2.0", "/b.txt 200 stream 1 2.0", "/b.txt 200 stream 15 2.0", "/none 404 stream 17 2.0");
      agent.stop();
      assertThat(counter(agent.logText(), "parse errors")).isZero();
    }
  }

  /**
   * HTTP/2 over TLS (ALPN h2) between curl and nginx on a capture port: the plaintext through
   * OpenSSL, a header block bigger than the default capture size read whole.
   */
  @Test
  void http2OverTlsWithALargeHeaderBlock(@TempDir Path www, @TempDir Path work, @TempDir Path certificates) throws Exception {
    Files.writeString(www.resolve("a.txt"), "alpha\n");
    Peers.selfSignedCertificate(certificates);
    try (Server nginx = Peers.nginx(www, work, false, "", certificates, true);
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "json", "--otlp-endpoint", "none",
            "--ports", Integer.toString(nginx.port()))) {
      String big = "x".repeat(6000);
      Completed curl = Peers.run(TIMEOUT, "curl", "-sS", "-k", "--http2", "-H", "x-big: " + big,
          nginx.httpsUrl("/a.txt"), nginx.httpsUrl("/missing")).assertSuccess();
      assertThat(curl.out()).startsWith("alpha\n");
      for (long pid : List.of(curl.pid(), nginx.pid())) {
        Await.until("two exchanges of " + pid, TIMEOUT, () -> agent.events(pid, "http-resp").size() == 2, agent::logText);
        assertThat(summary(agent.events(pid, "http-resp"))).as("responses of %d", pid)
            .containsExactly("/a.txt 200 stream 1 2.0", "/missing 404 stream 3 2.0");
        assertThat(agent.events(pid, "http-resp")).allSatisfy(e -> assertThat(e.at("/body/data/http_scheme").asText()).isEqualTo("https"));
      }
      agent.stop();
      String log = agent.logText();
      assertThat(counter(log, "HTTP/2 header frames cut")).isZero();
      assertThat(counter(log, "hpack desync")).isZero();
      assertThat(counter(log, "parse errors")).isZero();
    }
  }

  /** h2load's 20000 requests over 4 connections, 10 streams each at a time, to nginx (h2c): every one seen, on both sides. */
  @Test
  void h2loadAgainstNginxIsCountedExactly(@TempDir Path www, @TempDir Path work) throws Exception {
    Peers.require("h2load");
    Files.writeString(www.resolve("index.html"), "<html>spanwire</html>\n");
    try (Server nginx = Peers.nginx(www, work, false, "", null, true);
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "none", "--otlp-endpoint", "none", "--comm", "^(h2load|nginx)$")) {
      Completed load = Peers.run(Duration.ofSeconds(120), "h2load", "-n", "20000", "-c", "4", "-m", "10",
          nginx.url("/index.html")).assertSuccess();
      assertThat(load.out()).contains("20000 succeeded");
      // every event is in the ring buffer once h2load has exited; the agent reads them all before it stops
      agent.stop();
      String log = agent.logText();
      assertThat(counter(log, "exchanges")).isEqualTo(40000);
      assertThat(counter(log, "server")).isEqualTo(20000);
      assertThat(counter(log, "client")).isEqualTo(20000);
      assertThat(counter(log, "parse errors")).isZero();
    }
  }

  /** The backend the agent of this log captured on: the socket capture follows HTTP/2 frames, the syscall capture does not. */
  private static boolean followsFrames(String log) {
    Matcher m = Pattern.compile("\\(backend (\\w+)\\)").matcher(log);
    assertThat(m.find()).as("the backend in the agent's log:%n%s", log).isTrue();
    return m.group(1).equals("socket");
  }

  /**
   * A hundred concurrent 1 MiB downloads on each of two connections, both sides traced, no body
   * capture. The kernel copied up to 32 KiB of every HTTP/2 syscall: 2.7 GB copied, 2,130 events
   * lost, 1,089 of 4,000 exchanges reported. The socket capture now follows the frames and sends
   * the DATA payloads as lengths: every exchange, nothing lost, the bodies' bytes counted, not
   * copied. The syscall capture (older kernels) still copies them; there only the counter is
   * checked.
   */
  @Test
  void largeDownloadsAreReportedWithoutTheirBodiesCopied(@TempDir Path www, @TempDir Path work) throws Exception {
    Peers.require("h2load");
    Files.writeString(www.resolve("big.txt"), "0123456789abcdef".repeat(MIB / 16));
    try (Server nginx = Peers.nginx(www, work, false, "", null, true)) {
      downloadsCountedWithoutTheirBodies(work, nginx.url("/big.txt"), 2000, 100, 2);
    }
  }

  /**
   * The same from nginx with sendfile on (Debian's default configuration): it writes a DATA
   * frame's header and sends its payload from the file, which the socket capture sees as a length
   * only; the walk passes it by that length (it stopped there before, one walk lost per
   * connection). nginx's side is not copied anyway; h2load's reads are walked.
   */
  @Test
  void largeDownloadsSentFromFilesAreFollowed(@TempDir Path www, @TempDir Path work) throws Exception {
    Peers.require("h2load");
    Files.writeString(www.resolve("big.txt"), "0123456789abcdef".repeat(MIB / 16));
    try (Server nginx = Peers.nginx(www, work, true, "", null, true)) {
      downloadsCountedWithoutTheirBodies(work, nginx.url("/big.txt"), 1000, 10, 1);
    }
  }

  /**
   * The same over TLS (nginx, ALPN h2), the plaintext from the TLS library's calls: before, 2.1 GB
   * copied, 2,098 events lost and 1,964 of 2,000 exchanges reported for 1,000 downloads.
   */
  @Test
  void largeDownloadsOverTlsAreReportedWithoutTheirBodiesCopied(@TempDir Path www, @TempDir Path work,
      @TempDir Path certificates) throws Exception {
    Peers.require("h2load");
    Files.writeString(www.resolve("big.txt"), "0123456789abcdef".repeat(MIB / 16));
    Peers.selfSignedCertificate(certificates);
    try (Server nginx = Peers.nginx(www, work, false, "", certificates, true)) {
      downloadsCountedWithoutTheirBodies(work, nginx.httpsUrl("/big.txt"), 1000, 50, 2);
    }
  }

  private static final int MIB = 1 << 20;

  /**
   * h2load's {@code requests} downloads of 1 MiB from {@code url} over two connections, {@code
   * streams} at a time, both sides traced; {@code copyingSides} of them copy the bodies from
   * memory (a server sending from files copies none).
   */
  private static void downloadsCountedWithoutTheirBodies(Path work, String url, int requests, int streams, int copyingSides)
      throws Exception {
    try (AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "none", "--otlp-endpoint", "none",
        "--comm", "^(h2load|nginx)$")) {
      Completed load = Peers.run(Duration.ofSeconds(120), "h2load", "-n", Integer.toString(requests), "-c", "2",
          "-m", Integer.toString(streams), url).assertSuccess();
      assertThat(load.out()).contains(requests + " succeeded");
      agent.stop();
      String log = agent.logText();
      long uncopied = counter(log, "HTTP/2 DATA bytes not copied");
      if (!followsFrames(log)) {
        assertThat(uncopied).isZero();
        return;
      }
      assertThat(counter(log, "lost in kernel")).isZero();
      assertThat(counter(log, "exchanges")).isEqualTo(2L * requests);
      assertThat(counter(log, "server")).isEqualTo(requests);
      assertThat(counter(log, "client")).isEqualTo(requests);
      assertThat(counter(log, "unanswered")).isZero();
      assertThat(counter(log, "parse errors")).isZero();
      assertThat(counter(log, "resyncs")).isZero();
      assertThat(counter(log, "HTTP/2 frame walks lost")).isZero();
      if (copyingSides == 1) {
        assertThat(counter(log, "length-only events")).as("nginx sent from the file").isPositive();
      }
      // the bodies' bytes on the sides that copy them: at most all of them go uncopied, nearly all do
      long bodies = (long) copyingSides * requests * MIB;
      assertThat(uncopied).isBetween(bodies * 95 / 100, bodies);
      assertThat(counter(log, "bytes captured")).isLessThan(bodies / 20);
    }
  }

  /**
   * A client of our own writing one connection's bytes, after its preface and SETTINGS, in pieces
   * cut anywhere (frame headers split across writes, a byte at a time in places) and reading its answers the same way: a 1 MiB
   * download and an upload of four DATA frames without content-length, to nginx. The kernel's walk
   * carries cut frame headers over to the next syscall: both exchanges are reported with their
   * sizes, on both sides, and no walk is lost.
   */
  @Test
  void framesCutAnywhereBySyscallsAreFollowed(@TempDir Path www, @TempDir Path work) throws Exception {
    int body = MIB;
    Files.writeString(www.resolve("big.txt"), "0123456789abcdef".repeat(body / 16));
    int upload = 60_000; // within the 65,535-byte window nginx starts a stream with
    try (Server nginx = Peers.nginx(www, work, false, "", null, true);
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "json", "--otlp-endpoint", "none",
            "--comm", "^(java|nginx)$")) {
      H2Wire wire = new H2Wire();
      String authority = "127.0.0.1:" + nginx.port();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.writeBytes(H2Wire.PREFACE);
      // SETTINGS_INITIAL_WINDOW_SIZE 2^31-1 and the connection's window opened as far: nginx sends all at once
      out.writeBytes(H2Wire.frame(H2Wire.SETTINGS, 0, 0, new byte[] {0, 4, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff}));
      int increment = Integer.MAX_VALUE - 65_535;
      out.writeBytes(H2Wire.frame(8, 0, 0, new byte[] {
          (byte) (increment >>> 24), (byte) (increment >>> 16), (byte) (increment >>> 8), (byte) increment}));
      // the connection's start in one write, as clients do (the kernel knows HTTP/2 from its first bytes)
      int start = out.size();
      out.writeBytes(wire.headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/big.txt", ":authority", authority));
      out.writeBytes(wire.headers(3, false, ":method", "POST", ":scheme", "http", ":path", "/upload", ":authority", authority));
      byte[] chunk = new byte[16_384];
      Arrays.fill(chunk, (byte) 'u');
      for (int left = upload; left > 0; left -= chunk.length) {
        out.writeBytes(H2Wire.frame(H2Wire.DATA, left <= chunk.length ? H2Wire.END_STREAM : 0, 3,
            Arrays.copyOf(chunk, Math.min(left, chunk.length))));
      }
      byte[] request = out.toByteArray();
      int[] writes = {1, 5, 9, 13, 2000, 7, 20_000, 3, 8, 4100, 1, 1, 1, 30};
      int[] reads = {3, 9, 1, 16_393, 5, 4000, 17, 8, 2};
      try (Socket socket = new Socket("127.0.0.1", nginx.port())) {
        socket.setTcpNoDelay(true);
        OutputStream os = socket.getOutputStream();
        os.write(request, 0, start);
        for (int at = start, i = 0; at < request.length; i++) {
          int n = Math.min(writes[i % writes.length], request.length - at);
          os.write(request, at, n);
          os.flush();
          at += n;
        }
        readUntilStreamsEnd(socket.getInputStream(), os, reads, Set.of(1, 3));
      }
      long self = ProcessHandle.current().pid();
      for (long pid : List.of(self, nginx.process().pid())) {
        Await.until("two http-resp events of " + pid, TIMEOUT, () -> agent.events(pid, "http-resp").size() >= 2, agent::logText);
      }
      List<JsonNode> mine = agent.events(self, "http-resp");
      assertThat(mine).extracting(e -> e.at("/body/data/http_target").asText() + " " + e.at("/body/data/http_status_code").asInt())
          .containsExactlyInAnyOrder("/big.txt 200", "/upload 404"); // nginx has no /upload
      JsonNode download = mine.stream().filter(e -> e.at("/body/data/http_target").asText().equals("/big.txt")).findFirst().orElseThrow();
      assertThat(download.at("/body/data/http_response_content_length").asLong()).isEqualTo(body);
      JsonNode post = mine.stream().filter(e -> e.at("/body/data/http_target").asText().equals("/upload")).findFirst().orElseThrow();
      assertThat(post.at("/body/data/http_request_content_length").asLong()).as("the DATA bytes written").isEqualTo(upload);
      agent.stop();
      String log = agent.logText();
      assertThat(counter(log, "parse errors")).isZero();
      assertThat(counter(log, "hpack desync")).isZero();
      assertThat(counter(log, "lost in kernel")).isZero();
      if (followsFrames(log)) {
        // the syscall capture copies the first 12 buffers of a gathered write only: nginx's
        // writev of many frames loses the boundaries there, and the reader resynchronises
        assertThat(counter(log, "resyncs")).isZero();
        assertThat(counter(log, "HTTP/2 frame walks lost")).isZero();
        // nginx's download goes out in large writes: its DATA at least is not copied
        assertThat(counter(log, "HTTP/2 DATA bytes not copied")).isBetween((long) body * 9 / 10, 2L * (body + upload));
      } else {
        assertThat(counter(log, "HTTP/2 DATA bytes not copied")).isZero();
      }
    }
  }

  /**
   * Reads frames in pieces of the given sizes until each of {@code streams} ended (END_STREAM or
   * RST_STREAM), acknowledging the server's SETTINGS.
   */
  private static void readUntilStreamsEnd(InputStream in, OutputStream out, int[] reads, Set<Integer> streams)
      throws Exception {
    Set<Integer> open = new HashSet<>(streams);
    ByteArrayOutputStream pending = new ByteArrayOutputStream();
    byte[] buffer = new byte[20_000];
    for (int i = 0; !open.isEmpty(); i++) {
      int n = in.read(buffer, 0, reads[i % reads.length]);
      assertThat(n).as("the server closed with streams %s open", open).isPositive();
      pending.write(buffer, 0, n);
      byte[] bytes = pending.toByteArray();
      int at = 0;
      while (bytes.length - at >= 9) {
        int length = (bytes[at] & 0xff) << 16 | (bytes[at + 1] & 0xff) << 8 | (bytes[at + 2] & 0xff);
        if (bytes.length - at < 9 + length) {
          break;
        }
        int type = bytes[at + 3];
        int flags = bytes[at + 4];
        int stream = (bytes[at + 5] & 0x7f) << 24 | (bytes[at + 6] & 0xff) << 16 | (bytes[at + 7] & 0xff) << 8 | (bytes[at + 8] & 0xff);
        if (type == H2Wire.SETTINGS && (flags & 1) == 0) {
          out.write(H2Wire.frame(H2Wire.SETTINGS, 1, 0, new byte[0]));
          out.flush();
        }
        if (type == H2Wire.RST_STREAM || ((type == H2Wire.DATA || type == H2Wire.HEADERS) && (flags & H2Wire.END_STREAM) != 0)) {
          open.remove(stream);
        }
        assertThat(type).as("a GOAWAY from nginx").isNotEqualTo(H2Wire.GOAWAY);
        at += 9 + length;
      }
      pending.reset();
      pending.write(bytes, at, bytes.length - at);
    }
  }

  /**
   * Body capture at 1 MiB and a hundred streams of 1 MiB answers at once on each of two
   * connections: the bodies under capture would need far more than the agent's heap (the launcher's
   * 32 MiB), and the agent died of OutOfMemoryError. They now share a budget; the agent stays up,
   * stops cleanly, and reports exchanges.
   */
  @Test
  void aHundredConcurrentStreamsOfOneMebibyteBodiesUnderBodyCaptureDoNotExhaustTheHeap(@TempDir Path www, @TempDir Path work)
      throws Exception {
    Peers.require("h2load");
    Files.writeString(www.resolve("big.txt"), "0123456789abcdef".repeat(1 << 16)); // 1 MiB of text
    try (Server nginx = Peers.nginx(www, work, false, "", null, true);
        AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "none", "--otlp-endpoint", "none",
            "--max-body-size", "1048576", "--comm", "^(h2load|nginx)$")) {
      Completed load = Peers.run(Duration.ofSeconds(120), "h2load", "-n", "2000", "-c", "2", "-m", "100",
          nginx.url("/big.txt")).assertSuccess();
      assertThat(load.out()).contains("2000 succeeded");
      int exit = agent.stop();
      String log = agent.logText();
      assertThat(log).doesNotContain("OutOfMemoryError").doesNotContain("capture stopped");
      assertThat(exit).as("SIGTERM's exit; the log: %s", log).isEqualTo(143);
      assertThat(counter(log, "exchanges")).isPositive();
    }
  }

  /**
   * The agent starts while an HTTP/2 connection is open: header fields the encoder had put into
   * its table before are references the agent cannot follow. It counts them and never reports a
   * wrong value; fields sent in full are still read.
   */
  @Test
  void aConnectionOpenBeforeTheAgentNeverGetsWrongValues(@TempDir Path work) throws Exception {
    Peers.require("node");
    try (Server server = Peers.server(List.of("node", peer("h2_node.js").toString(), "server"), Map.of())) {
      Process client = Peers.start(List.of("node", peer("h2_node.js").toString(), "late", server.url("")));
      BufferedReader out = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
      assertThat(out.readLine()).isEqualTo("/late/1 200");
      assertThat(out.readLine()).isEqualTo("ready");
      try (AgentRun agent = AgentRun.start(work.resolve("agent.log"), "--output", "json", "--otlp-endpoint", "none", "--comm", "^node$")) {
        Writer in = new OutputStreamWriter(client.getOutputStream(), StandardCharsets.UTF_8);
        in.write("7\n");
        in.flush();
        assertThat(out.readLine()).isEqualTo("/late/1 200");
        assertThat(out.readLine()).isEqualTo("/late/2-7 200");
        assertThat(client.waitFor(10, TimeUnit.SECONDS)).isTrue();
        // the request with a new :path (a literal) is read on both sides
        for (long pid : List.of(client.pid(), server.pid())) {
          Await.until("/late/2-7 answered, seen from " + pid, TIMEOUT, () -> agent.events(pid, "http-resp").stream()
              .anyMatch(e -> e.at("/body/data/http_target").asText().equals("/late/2-7")
                  && e.at("/body/data/http_status_code").asInt() == 200), agent::logText);
        }
        agent.stop();
        assertThat(counter(agent.logText(), "hpack desync")).isPositive();
        List<JsonNode> events = agent.events().stream()
            .filter(e -> e.at("/body/source").asText().startsWith("http-")).toList();
        // what is reported is right: a target that was sent, the user agent and host that were sent or none
        assertThat(events).allSatisfy(e -> {
          assertThat(e.at("/body/data/http_target").asText()).isIn("/late/1", "/late/2-7");
          JsonNode agentField = e.at("/body/data/http_user_agent");
          assertThat(agentField.isMissingNode() || agentField.asText().equals("late-client/1")).isTrue();
          JsonNode host = e.at("/body/data/http_host");
          assertThat(host.isMissingNode() || host.asText().equals("127.0.0.1:" + server.port())).isTrue();
        });
      } finally {
        client.destroy();
      }
    }
  }
}
