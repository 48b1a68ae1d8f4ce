package dev.spanwire.exporter.connection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.CaptureConfig;
import dev.spanwire.bpf.Role;
import dev.spanwire.bpf.SocketCapture;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import dev.spanwire.bpf.testing.Peers.Completed;
import dev.spanwire.bpf.testing.Peers.Server;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.testing.ExchangeRecorder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP exchanges from real clients and servers on 127.0.0.1 through the kernel capture and the
 * pipeline: each exchange seen exactly once on each traced side, with the right fields.
 */
@KernelTest
class HttpCaptureKernelTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final int TEN_MIB = 10 << 20;

  @TempDir static Path www;
  @TempDir static Path nginxWork;

  private static final ExchangeRecorder recorder = new ExchangeRecorder();
  private static ConnectionTracker pipeline;
  private static SocketCapture capture;
  private static Server nginx;

  @BeforeAll
  static void start() throws IOException {
    Files.writeString(www.resolve("a.txt"), "alpha\n");
    byte[] big = new byte[TEN_MIB];
    new Random(7).nextBytes(big);
    Files.write(www.resolve("big.bin"), big);
    Files.setLastModifiedTime(www.resolve("a.txt"), java.nio.file.attribute.FileTime.fromMillis(1_700_000_000_000L));
    capture = SocketCapture.load(CaptureConfig.defaults());
    // the pipeline follows this class's peers only, so the counters @AfterAll holds at zero are
    // theirs, not whatever else the host runs (the ring buffer, and so its loss, is shared)
    TracedConnections peers = new TracedConnections(java.util.regex.Pattern.compile("^(curl|nginx|python3|wrk|socat)$"),
        java.util.Set.copyOf(TracedConnections.DEFAULT_PORTS), false,
        java.util.regex.Pattern.compile(TracedConnections.DEFAULT_PROTOCOL), false);
    pipeline = new ConnectionTracker(recorder, PipelineSettings.defaults().withTraced(peers), capture.connections());
    capture.start(pipeline);
    nginx = Peers.nginx(www, nginxWork, true, "location /echo { return 200 \"ok\\n\"; }");
  }

  @AfterAll
  static void stop() {
    if (nginx != null) {
      nginx.close();
    }
    if (capture != null) {
      capture.close();
      assertThat(capture.stats().eventsLost()).as("events lost in the kernel").isZero();
      PipelineStats stats = pipeline.stats();
      assertThat(stats.parseErrors()).as("parse errors").isZero();
      assertThat(stats.gaps()).as("gaps").isZero();
    }
  }

  /** Waits for {@code count} exchanges of {@code pid} and returns them. */
  private static Path peer(String name) {
    try {
      return Path.of(HttpCaptureKernelTest.class.getResource("/peers/" + name).toURI());
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<Exchange> awaitExchanges(long pid, int count) {
    Await.until(
        count + " exchanges of pid " + pid,
        Duration.ofSeconds(15),
        () -> recorder.of(pid).size() >= count,
        () -> "(have " + recorder.of(pid) + ")");
    List<Exchange> exchanges = recorder.of(pid);
    assertThat(exchanges).as("exchanges of pid %d", pid).hasSize(count);
    return exchanges;
  }

  /** The server-side exchanges whose client port is the client's. */
  private static List<Exchange> serverSide(Exchange client, int count) {
    int clientPort = client.connection().local().getPort();
    Await.until(
        "nginx's side of port " + clientPort,
        () -> recorder.of(nginx.pid()).stream().filter(e -> e.connection().remote().getPort() == clientPort).count() >= count);
    List<Exchange> exchanges =
        recorder.of(nginx.pid()).stream().filter(e -> e.connection().remote().getPort() == clientPort).toList();
    assertThat(exchanges).hasSize(count);
    exchanges.forEach(e -> assertThat(e.role()).isEqualTo(Role.SERVER));
    return exchanges;
  }

  /**
   * A 10 MiB body the parser frames by length: once it has the head, the kernel sends the rest's
   * lengths only, and the next response on the connection still parses. The client reads 64 KiB
   * every 4 ms (about 0.7 s for the body), far longer than the agent's reaction, so most of its
   * reads go uncopied. Not curl's --limit-rate: it lets the first 7 MB through in 10 ms and then
   * sleeps, so what was skipped depended on how soon the reader woke (4.2 to 11 MB, failing CI).
   */
  @Test
  void aLongBodyIsSentAsLengthsOnceTheParserSkipsIt() {
    // the hint is only as early as the pipeline is current: after another test's burst it may
    // still be working off a backlog (2.7 MB skipped instead of over 5 once), so start when the
    // ring buffer has been quiet for 300 ms, or after 5 s on a host that is never quiet
    long last = -1;
    long quietSince = System.nanoTime();
    for (long deadline = System.nanoTime() + 5_000_000_000L; System.nanoTime() < deadline;
        java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L)) {
      long records = capture.stats().records();
      if (records != last) {
        last = records;
        quietSince = System.nanoTime();
      } else if (System.nanoTime() - quietSince > 300_000_000L) {
        break;
      }
    }
    long before = capture.stats().skippedBytes();
    Completed paced = Peers.run(TIMEOUT, Peers.python(), peer("paced_download.py").toString(), "127.0.0.1",
        String.valueOf(nginx.port()), "65536", "4", "/big.bin", "/a.txt").assertSuccess();
    assertThat(paced.out()).isEqualTo("/big.bin 200 " + TEN_MIB + "\n/a.txt 200 6\n");
    List<Exchange> client = awaitExchanges(paced.pid(), 2);
    long skipped = capture.stats().skippedBytes() - before;
    String seen = "skipped " + skipped + ", " + pipeline.stats() + ", exchanges " + client;
    assertThat(client).as(seen).extracting(e -> e.request().target() + " -> " + e.statusCode())
        .containsExactly("/big.bin -> 200", "/a.txt -> 200");
    assertThat(client.get(0).response().declaredLength()).as(seen).isEqualTo(TEN_MIB);
    assertThat(client.get(0).response().bodyBytes()).as(seen).isEqualTo(TEN_MIB);
    assertThat(client.get(1).response().bodyBytes()).as(seen).isEqualTo(6);
    assertThat(client.get(1).connection().id()).isEqualTo(client.get(0).connection().id());
    // the client's side and nginx's (its sendfile moves no bytes anyway) each skip at most the body
    assertThat(skipped).as("body bytes sent as lengths only; " + seen).isGreaterThan(TEN_MIB / 2).isLessThan(2L * TEN_MIB);
  }

  @Test
  void keepAliveConnectionCarriesTwoExchanges() {
    Completed curl = Peers.run(TIMEOUT, "curl", "-s", "-o", "/dev/null", "-o", "/dev/null", "-A", "spanwire-test/1", nginx.url("/a.txt"), nginx.url("/a.txt?second=1")).assertSuccess();
    List<Exchange> client = awaitExchanges(curl.pid(), 2);
    assertThat(client).extracting(e -> e.request().target()).containsExactly("/a.txt", "/a.txt?second=1");
    assertThat(client.get(0).connection().id()).isEqualTo(client.get(1).connection().id());
    for (Exchange e : client) {
      assertThat(e.role()).isEqualTo(Role.CLIENT);
      assertThat(e.statusCode()).isEqualTo(200);
      assertThat(e.request().method()).isEqualTo("GET");
      assertThat(e.request().authority()).isEqualTo("127.0.0.1:" + nginx.port());
      assertThat(e.request().userAgent()).isEqualTo("spanwire-test/1");
      assertThat(e.version()).isEqualTo("1.1");
      assertThat(e.response().declaredLength()).isEqualTo(6);
      assertThat(e.response().bodyBytes()).isEqualTo(6);
      assertThat(e.connection().process().commandLine()).startsWith("curl -s -o /dev/null");
      assertThat(e.connection().server().getPort()).isEqualTo(nginx.port());
      assertThat(e.durationNanos()).isPositive();
    }
    List<Exchange> server = serverSide(client.getFirst(), 2);
    assertThat(server).extracting(e -> e.request().target()).containsExactly("/a.txt", "/a.txt?second=1");
    assertThat(server.getFirst().connection().process().comm()).isEqualTo("nginx");
  }

  @Test
  void headResponseCarriesNoBody() {
    Completed curl = Peers.run(TIMEOUT, "curl", "-s", "-I", nginx.url("/a.txt")).assertSuccess();
    Exchange e = awaitExchanges(curl.pid(), 1).getFirst();
    assertThat(e.request().method()).isEqualTo("HEAD");
    assertThat(e.statusCode()).isEqualTo(200);
    assertThat(e.response().declaredLength()).isEqualTo(6);
    assertThat(e.response().bodyBytes()).isZero();
    assertThat(serverSide(e, 1).getFirst().request().method()).isEqualTo("HEAD");
  }

  @Test
  void postWithBodyAndChunkedUpload(@TempDir Path files) throws IOException {
    Path upload = files.resolve("upload.bin");
    Files.write(upload, new byte[20_000]);
    Completed post = Peers.run(TIMEOUT, "curl", "-s", "-o", "/dev/null", "-d", "name=value", nginx.url("/echo")).assertSuccess();
    Exchange posted = awaitExchanges(post.pid(), 1).getFirst();
    assertThat(posted.request().method()).isEqualTo("POST");
    assertThat(posted.request().declaredLength()).isEqualTo(10);
    assertThat(posted.request().bodyBytes()).isEqualTo(10);
    assertThat(posted.statusCode()).isEqualTo(200);
    assertThat(serverSide(posted, 1).getFirst().request().declaredLength()).isEqualTo(10);

    Completed chunked =
        Peers.run(TIMEOUT, "curl", "-s", "-o", "/dev/null", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + upload, nginx.url("/echo"))
            .assertSuccess();
    Exchange sent = awaitExchanges(chunked.pid(), 1).getFirst();
    assertThat(sent.request().hasBody()).as("chunked: a body without a declared length").isTrue();
    assertThat(sent.request().declaredLength()).isEqualTo(-1);
    assertThat(sent.request().bodyBytes()).isEqualTo(20_000);
    assertThat(sent.statusCode()).isEqualTo(200);
    Exchange received = serverSide(sent, 1).getFirst();
    assertThat(received.request().hasBody()).isTrue();
    assertThat(received.request().declaredLength()).isEqualTo(-1);
    assertThat(received.request().bodyBytes()).isEqualTo(20_000);
  }

  /** nginx answers 304 when If-Modified-Since is exactly the file's time (a.txt: 1700000000). */
  @Test
  void notModifiedAnswersIfModifiedSince() {
    Completed curl =
        Peers.run(TIMEOUT, "curl", "-s", "-o", "/dev/null", "-H", "If-Modified-Since: Tue, 14 Nov 2023 22:13:20 GMT", nginx.url("/a.txt"))
            .assertSuccess();
    Exchange e = awaitExchanges(curl.pid(), 1).getFirst();
    assertThat(e.statusCode()).isEqualTo(304);
    assertThat(e.response().bodyBytes()).isZero();
    assertThat(serverSide(e, 1).getFirst().statusCode()).isEqualTo(304);
  }

  @Test
  void pythonServerAnswersHttp10() {
    try (Server python = Peers.pythonHttpServer(www, "127.0.0.1")) {
      Completed curl = Peers.run(TIMEOUT, "curl", "-s", "-o", "/dev/null", python.url("/a.txt")).assertSuccess();
      Exchange client = awaitExchanges(curl.pid(), 1).getFirst();
      assertThat(client.statusCode()).isEqualTo(200);
      assertThat(client.response().version()).isEqualTo("1.0");
      assertThat(client.response().bodyBytes()).isEqualTo(6);
      Await.until("python's side", () -> recorder.of(python.pid()).size() == 1);
      Exchange server = recorder.of(python.pid()).getFirst();
      assertThat(server.role()).isEqualTo(Role.SERVER);
      assertThat(server.request().target()).isEqualTo("/a.txt");
      assertThat(server.connection().remote()).isEqualTo(client.connection().local());
    }
  }

  @Test
  void pipelinedRequestsPairInOrder() {
    String requests =
        "GET /a.txt HTTP/1.1\\r\\nHost: p\\r\\n\\r\\n"
            + "GET /missing HTTP/1.1\\r\\nHost: p\\r\\n\\r\\n"
            + "HEAD /a.txt HTTP/1.1\\r\\nHost: p\\r\\nConnection: close\\r\\n\\r\\n";
    Completed socat =
        Peers.run(TIMEOUT, "bash", "-c", "printf '" + requests + "' | socat -t 5 - TCP:127.0.0.1:" + nginx.port()).assertSuccess();
    assertThat(socat.out()).contains("200 OK").contains("404 Not Found");
    // the client side is socat, a child of bash: find it by the connection to nginx
    Await.until("three pipelined exchanges on nginx", () -> recorder.of(nginx.pid()).stream()
        .filter(e -> e.request().authority() != null && e.request().authority().equals("p")).count() == 3);
    List<Exchange> server = recorder.of(nginx.pid()).stream()
        .filter(e -> "p".equals(e.request().authority())).toList();
    assertThat(server).extracting(e -> e.request().method() + " " + e.request().target() + " " + e.statusCode())
        .containsExactly("GET /a.txt 200", "GET /missing 404", "HEAD /a.txt 200");
    int clientPort = server.getFirst().connection().remote().getPort();
    Await.until("socat's side", () -> recorder.exchanges().stream()
        .filter(e -> e.role() == Role.CLIENT && e.connection().local().getPort() == clientPort).count() == 3);
    List<Exchange> client = recorder.exchanges().stream()
        .filter(e -> e.role() == Role.CLIENT && e.connection().local().getPort() == clientPort).toList();
    assertThat(client).extracting(e -> e.request().target() + " " + e.statusCode())
        .containsExactly("/a.txt 200", "/missing 404", "/a.txt 200");
    assertThat(client.getFirst().connection().process().comm()).isEqualTo("socat");
  }

  @Test
  void tenMebibyteDownloadIsOneExchange() {
    Completed curl =
        Peers.run(TIMEOUT, "curl", "-s", "-o", "/dev/null", "-w", "%{size_download}", nginx.url("/big.bin")).assertSuccess();
    assertThat(curl.out()).isEqualTo(Integer.toString(TEN_MIB));
    Exchange client = awaitExchanges(curl.pid(), 1).getFirst();
    assertThat(client.response().declaredLength()).isEqualTo(TEN_MIB);
    assertThat(client.response().bodyBytes()).isEqualTo(TEN_MIB);
    assertThat(client.response().truncated()).isFalse();
    Exchange server = serverSide(client, 1).getFirst();
    assertThat(server.response().bodyBytes()).isEqualTo(TEN_MIB); // sent with sendfile: sizes only
    assertThat(client.endNanos() - client.startNanos()).isGreaterThan(client.durationNanos());
  }

  /**
   * A slow client writing its request one byte per write (no Nagle, 5 ms apart), as the soak's
   * slow clients do: nginx reads the first byte alone, too little to tell HTTP, and the connection
   * off the port list was ignored for good (the soak's slow clients were never seen). Both sides
   * now wait for enough bytes and report the exchange from its first byte.
   */
  @Test
  void aRequestWrittenOneByteAtATimeIsSeenOnBothSides() {
    String client = """
        import socket, time
        s = socket.create_connection(("127.0.0.1", %d))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for b in b"GET /echo?slow=1 HTTP/1.1\\r\\nHost: slow.test\\r\\n\\r\\n":
            s.sendall(bytes([b])); time.sleep(0.005)
        answer = b""
        while not answer.endswith(b"ok\\n"):
            answer += s.recv(4096)
        print(answer.split(b" ")[1].decode())
        """.formatted(nginx.port());
    Completed python = Peers.run(TIMEOUT, Peers.python(), "-c", client).assertSuccess();
    assertThat(python.out().strip()).isEqualTo("200");
    Exchange exchange = awaitExchanges(python.pid(), 1).getFirst();
    assertThat(exchange.request().method()).isEqualTo("GET");
    assertThat(exchange.request().target()).isEqualTo("/echo?slow=1");
    assertThat(exchange.request().authority()).isEqualTo("slow.test");
    assertThat(exchange.response().statusCode()).isEqualTo(200);
    assertThat(exchange.role()).isEqualTo(Role.CLIENT);
    Exchange server = serverSide(exchange, 1).getFirst();
    assertThat(server.request().target()).isEqualTo("/echo?slow=1");
    assertThat(server.request().authority()).isEqualTo("slow.test");
    assertThat(server.response().statusCode()).isEqualTo(200);
    // the request took about 40 writes 5 ms apart: its start is its first byte, not the detection
    assertThat(server.request().headNanos() - server.request().startNanos()).isGreaterThan(100_000_000L);
  }

  @Test
  void wrkBurstIsCountedExactly() {
    Completed wrk = Peers.run(TIMEOUT, "wrk", "-t", "2", "-c", "8", "-d", "2s", nginx.url("/a.txt")).assertSuccess();
    Matcher m = Pattern.compile("(\\d+) requests in").matcher(wrk.out());
    assertThat(m.find()).as("wrk output: %s", wrk.out()).isTrue();
    long completed = Long.parseLong(m.group(1));
    assertThat(completed).isPositive();
    // every response wrk read whole is one client exchange; nginx answered those and at most the 8
    // in flight. wrk's exit can cut a response it had begun to read: reported, marked truncated.
    Await.until(
        completed + " exchanges of wrk",
        Duration.ofSeconds(20),
        () -> recorder.of(wrk.pid()).stream().filter(e -> e.response() != null && !e.response().truncated()).count() >= completed,
        () -> "(have " + recorder.of(wrk.pid()).stream().filter(e -> e.response() != null).count() + ")");
    List<Exchange> client = recorder.of(wrk.pid()).stream()
        .filter(e -> e.response() != null && !e.response().truncated()).toList();
    assertThat(client).hasSize((int) completed).allSatisfy(e -> {
      assertThat(e.statusCode()).isEqualTo(200);
      assertThat(e.role()).isEqualTo(Role.CLIENT);
    });
    assertThat(recorder.of(wrk.pid()).stream().filter(e -> e.response() != null && e.response().truncated()).count())
        .as("responses cut by wrk's exit, one per connection at most").isLessThanOrEqualTo(8);
    java.util.Set<Integer> wrkPorts = client.stream().map(e -> e.connection().local().getPort()).collect(java.util.stream.Collectors.toSet());
    Await.until("nginx's side of the burst", () -> recorder.of(nginx.pid()).stream()
        .filter(e -> wrkPorts.contains(e.connection().remote().getPort())).count() >= completed);
    long server = recorder.of(nginx.pid()).stream().filter(e -> wrkPorts.contains(e.connection().remote().getPort())).count();
    assertThat(server).isBetween(completed, completed + 8);
  }
}
