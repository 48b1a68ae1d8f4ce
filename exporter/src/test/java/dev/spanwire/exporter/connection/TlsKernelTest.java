package dev.spanwire.exporter.connection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.CaptureConfig;
import dev.spanwire.bpf.Role;
import dev.spanwire.bpf.SocketCapture;
import dev.spanwire.bpf.TlsLibraries;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import dev.spanwire.bpf.testing.Peers.Completed;
import dev.spanwire.bpf.testing.Peers.Server;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.testing.ExchangeRecorder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS through TLS library uprobes: real clients and servers on 127.0.0.1 with a certificate
 * openssl makes here. Each side's exchanges come with the plaintext's method, target, status,
 * host, sizes and the https scheme, and nothing is parsed from ciphertext.
 */
@KernelTest
class TlsKernelTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final int MIB = 1 << 20;

  @TempDir static Path www;
  @TempDir static Path nginxWork;
  @TempDir static Path certificates;

  private static final ExchangeRecorder recorder = new ExchangeRecorder();
  private static ConnectionTracker pipeline;
  private static SocketCapture capture;
  private static Server nginx;

  @BeforeAll
  static void start() throws IOException {
    Files.writeString(www.resolve("a.txt"), "alpha\n");
    byte[] big = new byte[MIB];
    new Random(11).nextBytes(big);
    Files.write(www.resolve("big.bin"), big);
    Peers.selfSignedCertificate(certificates);
    capture = SocketCapture.load(CaptureConfig.defaults());
    // the pipeline follows this class's peers only, so the counters @AfterAll holds at zero are
    // theirs, not whatever else the host runs (the ring buffer, and so its loss, is shared)
    TracedConnections peers = new TracedConnections(java.util.regex.Pattern.compile("^(curl|nginx|python3|node)$"),
        java.util.Set.copyOf(TracedConnections.DEFAULT_PORTS), false,
        java.util.regex.Pattern.compile(TracedConnections.DEFAULT_PROTOCOL), false);
    pipeline = new ConnectionTracker(recorder, PipelineSettings.defaults().withTraced(peers), capture.connections());
    capture.start(pipeline);
    nginx = Peers.nginx(www, nginxWork, false, "location = /post { return 201 \"created\\n\"; }", certificates);
  }

  @AfterAll
  static void stop() {
    if (nginx != null) {
      nginx.close();
    }
    if (capture != null) {
      capture.close();
      assertThat(capture.stats().eventsLost()).as("events lost in the kernel").isZero();
      assertThat(pipeline.stats().parseErrors()).as("parse errors: ciphertext is never parsed").isZero();
      assertThat(pipeline.stats().gaps()).as("gaps").isZero();
    }
  }

  private static Path peer(String name) {
    try {
      return Path.of(TlsKernelTest.class.getResource("/peers/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<Exchange> await(long pid, int count) {
    Await.until(count + " exchanges of pid " + pid, TIMEOUT, () -> recorder.of(pid).size() >= count,
        () -> "(have " + summary(recorder.of(pid)) + ", " + pipeline.stats() + ")");
    List<Exchange> exchanges = recorder.of(pid);
    assertThat(exchanges).hasSize(count);
    return exchanges;
  }

  private static List<String> summary(List<Exchange> exchanges) {
    return exchanges.stream()
        .map(e -> e.connection().scheme() + " " + e.request().method() + " " + e.request().target() + " -> "
            + (e.response() == null ? "none" : e.response().statusCode() + " " + e.response().bodyBytes()))
        .toList();
  }

  /** Both sides of curl's keep-alive connection to nginx: GET, HEAD, POST and a 1 MiB download. */
  @Test
  void curlAndNginxOverTlsOnOneConnection(@TempDir Path files) throws IOException {
    Path form = files.resolve("form.txt");
    Files.writeString(form, "x".repeat(3000));
    Completed curl = Peers.run(TIMEOUT, "curl", "-sk", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\\n",
        nginx.httpsUrl("/a.txt"),
        "--next", "-sk", "-I", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\\n", nginx.httpsUrl("/a.txt"),
        "--next", "-sk", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\\n", "--data-binary", "@" + form,
        nginx.httpsUrl("/post"),
        "--next", "-sk", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\\n", nginx.httpsUrl("/big.bin"))
        .assertSuccess();
    assertThat(curl.out().lines().toList()).as("one connection").containsExactly("200 1", "200 0", "201 0", "200 0");

    List<String> expected = List.of("https GET /a.txt -> 200 6", "https HEAD /a.txt -> 200 0",
        "https POST /post -> 201 8", "https GET /big.bin -> 200 " + MIB);
    List<Exchange> client = await(curl.pid(), 4);
    assertThat(summary(client)).containsExactlyElementsOf(expected);
    assertThat(client).allSatisfy(e -> {
      assertThat(e.role()).isEqualTo(Role.CLIENT);
      assertThat(e.request().authority()).isEqualTo("127.0.0.1:" + nginx.port());
      assertThat(e.connection().id()).isEqualTo(client.getFirst().connection().id());
      assertThat(e.connection().server().getPort()).isEqualTo(nginx.port());
    });
    assertThat(client.get(2).request().declaredLength()).isEqualTo(3000);
    assertThat(client.get(2).request().bodyBytes()).isEqualTo(3000);

    int clientPort = client.getFirst().connection().local().getPort();
    Await.until("nginx's side", TIMEOUT, () -> recorder.of(nginx.pid()).stream()
        .filter(e -> e.connection().remote().getPort() == clientPort).count() >= 4);
    List<Exchange> server = recorder.of(nginx.pid()).stream().filter(e -> e.connection().remote().getPort() == clientPort).toList();
    assertThat(summary(server)).containsExactlyElementsOf(expected);
    assertThat(server).allSatisfy(e -> assertThat(e.role()).isEqualTo(Role.SERVER));
    assertThat(server.get(2).request().bodyBytes()).isEqualTo(3000);
  }

  /** python's ssl module on both ends: http.server behind it, urllib in front. */
  @Test
  void pythonHttpsServerAndUrllibClient() {
    try (Server server = Peers.server(List.of(Peers.python(), "-u", peer("https_server.py").toString(),
        certificates.resolve("cert.pem").toString(), certificates.resolve("key.pem").toString()), Map.of())) {
      String client = """
          import ssl, urllib.request
          ctx = ssl._create_unverified_context()
          r = urllib.request.urlopen("%1$s", context=ctx)
          print(r.status, len(r.read()))
          print(urllib.request.urlopen(urllib.request.Request("%1$s?p=1", data=b"hello", method="POST"), context=ctx).read().decode())
          """.formatted(server.httpsUrl("/py"));
      Completed python = Peers.run(TIMEOUT, Peers.python(), "-c", client).assertSuccess();
      assertThat(python.out().lines().toList()).containsExactly("200 7", "hello");
      List<String> expected = List.of("https GET /py -> 200 7", "https POST /py?p=1 -> 200 5");
      assertThat(summary(await(python.pid(), 2))).containsExactlyElementsOf(expected);
      assertThat(summary(await(server.pid(), 2))).containsExactlyElementsOf(expected);
      assertThat(recorder.of(python.pid()).getFirst().request().userAgent()).startsWith("Python-urllib/");
    }
  }

  /** node links OpenSSL into its own executable: found by its exported symbols, on both ends. */
  @Test
  void nodeHttpsClientAndServerWithOpenSslInside() {
    Peers.require("node");
    try (Server server = Peers.server(List.of("node", peer("https_node.js").toString(), "server",
        certificates.resolve("cert.pem").toString(), certificates.resolve("key.pem").toString()), Map.of())) {
      TlsLibraries tls = capture.tls().orElseThrow();
      tls.scan(); // what the agent's housekeeping does when a process starts
      assertThat(tls.files()).anyMatch(f -> f.endsWith("/node") || f.contains("/nodejs"));
      Completed node = Peers.run(TIMEOUT, "node", peer("https_node.js").toString(), "client",
          server.httpsUrl("/n/1"), server.httpsUrl("/n/2")).assertSuccess();
      assertThat(node.out().lines().toList()).containsExactly("200", "200");
      List<String> expected = List.of("https GET /n/1 -> 200 10", "https GET /n/2 -> 200 10");
      assertThat(summary(await(node.pid(), 2))).containsExactlyElementsOf(expected);
      assertThat(summary(await(server.pid(), 2))).containsExactlyElementsOf(expected);
      assertThat(recorder.of(node.pid()).get(1).connection().id()).isEqualTo(recorder.of(node.pid()).get(0).connection().id());
    }
  }

  /** A library only an exited process mapped is let go at the next scan. */
  @Test
  void aLibraryNoProcessMapsAnyMoreIsDetached() {
    Peers.require("node");
    TlsLibraries tls = capture.tls().orElseThrow();
    String nodeFile;
    try (Server server = Peers.server(List.of("node", peer("https_node.js").toString(), "server",
        certificates.resolve("cert.pem").toString(), certificates.resolve("key.pem").toString()), Map.of())) {
      tls.scan();
      nodeFile = tls.files().stream().filter(f -> f.endsWith("/node") || f.contains("/nodejs")).findFirst().orElseThrow();
      assertThat(tls.links()).isPositive();
    }
    Await.until("node's executable detached", TIMEOUT, () -> {
      tls.scan();
      return !tls.files().contains(nodeFile);
    }, () -> "(attached: " + tls.files() + ")");
  }

  /**
   * A keep-alive TLS connection opened before the capture started: its later requests are seen
   * (the connection is picked up at its first plaintext).
   */
  @Test
  void aConnectionOpenedBeforeTheCaptureIsSeenFromItsNextRequest() throws Exception {
    String client = """
        import http.client, ssl, sys
        c = http.client.HTTPSConnection("127.0.0.1", %d, context=ssl._create_unverified_context())
        c.request("GET", "/a.txt?before=1"); r = c.getresponse(); r.read(); print(r.status, flush=True)
        sys.stdin.readline()
        c.request("GET", "/a.txt?after=1"); r = c.getresponse(); r.read(); print(r.status, flush=True)
        """.formatted(nginx.port());
    Process python = new ProcessBuilder(Peers.python(), "-c", client).start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(python.getInputStream(), StandardCharsets.UTF_8));
        OutputStream in = python.getOutputStream()) {
      assertThat(out.readLine()).isEqualTo("200");
      ExchangeRecorder late = new ExchangeRecorder();
      SocketCapture second = SocketCapture.load(CaptureConfig.defaults());
      try {
        second.start(new ConnectionTracker(late, PipelineSettings.defaults(), second.connections()));
        in.write('\n');
        in.flush();
        assertThat(out.readLine()).isEqualTo("200");
        Await.until("the request after the capture started", TIMEOUT, () -> !late.of(python.pid()).isEmpty());
        assertThat(summary(late.of(python.pid()))).containsExactly("https GET /a.txt?after=1 -> 200 6");
        assertThat(late.of(python.pid()).getFirst().role()).isEqualTo(Role.CLIENT);
      } finally {
        second.close();
      }
    } finally {
      python.destroyForcibly();
    }
  }
}
