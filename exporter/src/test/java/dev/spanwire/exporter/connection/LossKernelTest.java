package dev.spanwire.exporter.connection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.CaptureBackend;
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
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real programs on 127.0.0.1 doing what makes a tracer lose its place: a response the parser
 * refuses in the middle of a keep-alive connection, a pipelined burst beyond the pipelining
 * bound, an fd taken over by dup2, a socket closed by exec and its fd reused for a file. Every
 * reported exchange is checked against what the client received; a wrong pair fails the test.
 */
@KernelTest
class LossKernelTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @TempDir static Path www;
  @TempDir static Path nginxWork;

  private static final ExchangeRecorder recorder = new ExchangeRecorder();
  private static ConnectionTracker pipeline;
  private static SocketCapture capture;
  private static Server nginx;

  @BeforeAll
  static void start() throws IOException {
    Files.writeString(www.resolve("a.txt"), "alpha\n");
    // the bodies tell which request each response answers; whole reads of pipelined answers
    // (the client's recv takes up to 16 KiB) are captured, so what is lost is what the bound drops
    capture = SocketCapture.load(CaptureConfig.defaults().withCaptureBytes(CaptureConfig.MAX_CAPTURE_BYTES));
    pipeline = new ConnectionTracker(recorder, PipelineSettings.defaults().withBodyCaptureBytes(64), capture.connections());
    capture.start(pipeline);
    nginx = Peers.nginx(www, nginxWork, false, "location /r { default_type text/plain; return 200 \"$uri\"; }");
  }

  @AfterAll
  static void stop() {
    if (nginx != null) {
      nginx.close();
    }
    if (capture != null) {
      capture.close();
    }
  }

  private static Path peer(String name) {
    try {
      return Path.of(LossKernelTest.class.getResource("/peers/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<String> summary(List<Exchange> exchanges) {
    return exchanges.stream()
        .map(e -> e.request().method() + " " + e.request().target() + " -> " + (e.response() == null ? "none" : e.response().statusCode()))
        .toList();
  }

  private static String body(Exchange e) {
    return e.response().bodyPrefix() == null ? "" : new String(e.response().bodyPrefix(), StandardCharsets.UTF_8);
  }

  @ParameterizedTest
  @ValueSource(strings = {"dupcl", "barelf"})
  void refusedResponseInTheMiddleOfAKeepAliveConnectionShiftsNothing(String malformation) throws Exception {
    try (Server server = Peers.server(List.of(Peers.python(), "-u", peer("malformed_server.py").toString(), malformation), Map.of())) {
      long parseErrorsBefore = pipeline.stats().parseErrors();
      Completed curl = Peers.run(TIMEOUT, "curl", "-s", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
          "-w", "%{http_code} %{num_connects}\\n",
          server.url("/a"), server.url("/b"), server.url("/c"), server.url("/d")).assertSuccess();
      // what curl received, on one connection: curl takes both malformations
      assertThat(curl.out().lines().toList()).containsExactly("200 1", "404 0", "500 0", "204 0");

      Await.until("curl's and the server's exchanges", TIMEOUT,
          () -> recorder.of(curl.pid()).size() >= 3 && recorder.of(server.pid()).size() >= 3,
          () -> "(curl " + summary(recorder.of(curl.pid())) + ", server " + summary(recorder.of(server.pid())) + ")");
      // the refused answer costs /b only: every other exchange is what curl got
      assertThat(summary(recorder.of(curl.pid()))).containsExactly("GET /a -> 200", "GET /c -> 500", "GET /d -> 204");
      assertThat(summary(recorder.of(server.pid()))).containsExactly("GET /a -> 200", "GET /c -> 500", "GET /d -> 204");
      assertThat(recorder.of(curl.pid())).filteredOn(e -> e.statusCode() != 204).allSatisfy(e -> assertThat(body(e)).isEqualTo(e.request().target()));
      assertThat(recorder.of(curl.pid()).getFirst().role()).isEqualTo(Role.CLIENT);
      assertThat(pipeline.stats().parseErrors() - parseErrorsBefore).as("the bad answer, read and written").isEqualTo(2);
    }
  }

  @Test
  void pipelinedBurstBeyondTheBoundNeverPairsAnAnswerWithTheWrongRequest() {
    int requests = 100;
    String client = """
        import socket, sys
        n = %d
        s = socket.create_connection(("127.0.0.1", %d))
        s.sendall(b"".join(b"GET /r%%d HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n" %% i for i in range(n)))
        buf, bodies = b"", []
        while len(bodies) < n:
            while True:
                head_end = buf.find(b"\\r\\n\\r\\n")
                if head_end >= 0:
                    head = buf[:head_end].decode()
                    length = int([l.split(":")[1] for l in head.split("\\r\\n") if l.lower().startswith("content-length")][0])
                    if len(buf) >= head_end + 4 + length:
                        break
                buf += s.recv(16384)
            bodies.append(buf[head_end + 4:head_end + 4 + length].decode())
            buf = buf[head_end + 4 + length:]
        print("\\n".join(bodies))
        """.formatted(requests, nginx.port());
    long droppedBefore = pipeline.stats().droppedPipelined();
    long unpairedRequestsBefore = pipeline.stats().unpairedRequests();
    Completed python = Peers.run(TIMEOUT, Peers.python(), "-c", client).assertSuccess();
    List<String> received = python.out().lines().toList();
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      sent.add("/r" + i);
    }
    assertThat(received).as("nginx answers pipelined requests in order").isEqualTo(sent);

    // the client wrote all 100 before reading: 64 are kept, the 36 oldest dropped in place
    Await.until("the client's exchanges", TIMEOUT, () -> recorder.of(python.pid()).size() >= requests - 36,
        () -> "(have " + recorder.of(python.pid()).size() + ")");
    List<Exchange> clientSide = recorder.of(python.pid());
    assertThat(clientSide).hasSize(64);
    assertThat(clientSide).allSatisfy(e -> assertThat(body(e)).as("answer of %s", e.request().target()).isEqualTo(e.request().target()));
    assertThat(clientSide).extracting(e -> e.request().target()).isEqualTo(sent.subList(36, 100));

    // nginx answers in writev calls of many iovecs, and bytes past the 12th are not captured: its
    // side loses its place and, pipelined, stops pairing. Every request is still accounted for.
    int clientPort = clientSide.getFirst().connection().local().getPort();
    java.util.function.Supplier<List<Exchange>> serverSide = () ->
        recorder.of(nginx.pid()).stream().filter(e -> e.connection().remote().getPort() == clientPort).toList();
    java.util.function.LongSupplier accounted = () -> {
      PipelineStats now = pipeline.stats();
      return clientSide.size() + serverSide.get().size() + now.droppedPipelined() - droppedBefore
          + now.unpairedRequests() - unpairedRequestsBefore;
    };
    Await.until("every request of both sides accounted for", TIMEOUT, () -> accounted.getAsLong() >= 2L * requests,
        () -> "(have " + accounted.getAsLong() + ": " + pipeline.stats() + ")");
    assertThat(serverSide.get()).allSatisfy(e -> assertThat(body(e)).as("answer of %s", e.request().target()).isEqualTo(e.request().target()));
    assertThat(accounted.getAsLong()).as("paired right, dropped at the bound, or unpaired after a loss").isEqualTo(2L * requests);
  }

  @Test
  void anFdTakenOverByDup2StartsANewConnectionWithTheNewPeer(@TempDir Path other) throws IOException {
    Files.writeString(other.resolve("b.txt"), "beta\n");
    try (Server second = Peers.pythonHttpServer(other, "127.0.0.1")) {
      String client = """
          import os, socket
          def get(sock, path):
              sock.sendall(b"GET " + path + b" HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n")
              data = b""
              while b"\\r\\n\\r\\n" not in data:
                  data += sock.recv(65536)
              return data.split(b" ")[1]
          a = socket.create_connection(("127.0.0.1", %d))
          print(get(a, b"/a.txt").decode())
          b = socket.create_connection(("127.0.0.1", %d))
          os.dup2(b.fileno(), a.fileno())
          print(get(a, b"/b.txt").decode())
          """.formatted(nginx.port(), second.port());
      Completed python = Peers.run(TIMEOUT, Peers.python(), "-c", client).assertSuccess();
      assertThat(python.out().lines().toList()).containsExactly("200", "200");

      Await.until("both exchanges of the client", TIMEOUT, () -> recorder.of(python.pid()).size() >= 2,
          () -> "(have " + summary(recorder.of(python.pid())) + ")");
      List<Exchange> exchanges = recorder.of(python.pid());
      assertThat(summary(exchanges)).containsExactly("GET /a.txt -> 200", "GET /b.txt -> 200");
      assertThat(exchanges.get(0).connection().remote().getPort()).isEqualTo(nginx.port());
      assertThat(exchanges.get(1).connection().remote().getPort()).as("the peer the fd names after dup2").isEqualTo(second.port());
      assertThat(exchanges.get(1).connection().id()).isNotEqualTo(exchanges.get(0).connection().id());
      if (capture.backend() == CaptureBackend.SYSCALL) {
        // keyed by (pid, fd), the kernel finds the old socket's state under the new one's fd
        assertThat(capture.stats().staleConnections()).isPositive();
      }
    }
  }

  /**
   * A reset puts the client's socket in the TCP state CLOSE while the answer still waits in it
   * unread: the connection must last until the process has read it, not end at the state change.
   */
  @Test
  void anAnswerReadAfterTheConnectionWasResetStillPairs() {
    try (Server server = Peers.pythonScript(peer("reset_server.py"), Map.of())) {
      String client = """
          import socket, time
          s = socket.create_connection(("127.0.0.1", %d))
          s.sendall(b"GET /r HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n")
          time.sleep(0.5)  # the answer and the reset both arrive before the read
          print(s.recv(65536).split(b"\\r\\n")[0].decode())
          try:
              s.recv(65536)
          except ConnectionResetError:
              print("reset")
          s.close()
          """.formatted(server.port());
      Completed python = Peers.run(TIMEOUT, Peers.python(), "-c", client).assertSuccess();
      assertThat(python.out().lines().toList()).containsExactly("HTTP/1.1 200 OK", "reset");

      Await.until("the client's exchange", TIMEOUT, () -> !recorder.of(python.pid()).isEmpty(),
          () -> "(have " + summary(recorder.of(python.pid())) + ")");
      List<Exchange> exchanges = recorder.of(python.pid());
      assertThat(summary(exchanges)).containsExactly("GET /r -> 200");
      assertThat(body(exchanges.getFirst())).isEqualTo("reset");
      assertThat(exchanges.getFirst().connection().role()).isEqualTo(Role.CLIENT);
    }
  }

  @Test
  void aSocketClosedByExecIsNotContinuedByAFileOnItsFd(@TempDir Path files) throws Exception {
    Path fake = files.resolve("looks-like-http.txt");
    Files.writeString(fake, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    try (Server slow = Peers.pythonScript(peer("echo_server.py"), Map.of())) {
      // the socket sits on fd 50, where no library of the next program opens and closes a file
      // of its own first: the only thing on fd 50 after exec is the file read
      String client = """
          import os, socket, sys
          s = socket.create_connection(("127.0.0.1", %d))
          fd = os.dup2(s.fileno(), 50, inheritable=False)
          s.close()
          os.write(fd, b"GET /slow?ms=20000 HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n")
          code = "import os\\nos.dup2(os.open(%%r, os.O_RDONLY), %%d)\\nprint(os.read(%%d, 4096))" %% (%s, fd, fd)
          os.execv(sys.executable, [sys.executable, "-c", code])
          """.formatted(slow.port(), "\"" + fake + "\"");
      Completed python = Peers.run(TIMEOUT, Peers.python(), "-c", client).assertSuccess();
      assertThat(python.out()).contains("HTTP/1.1 200 OK"); // the file was read on the socket's old fd

      Await.until("the request the exec cut", TIMEOUT, () -> !recorder.of(python.pid()).isEmpty());
      // it never got an answer: the file's bytes must not become one
      assertThat(summary(recorder.of(python.pid()))).containsExactly("GET /slow?ms=20000 -> none");
    }
  }

  @Test
  void aConnectionOpeningWithAWebDavMethodOffThePortListIsTraced() {
    try (Server server = Peers.pythonScript(peer("echo_server.py"), Map.of())) {
      // an ephemeral port, not on the list: the kernel must know PROPFIND starts HTTP
      String client = """
          import http.client
          c = http.client.HTTPConnection("127.0.0.1", %d)
          c.request("PROPFIND", "/dav/")
          r = c.getresponse(); r.read()
          c.request("GET", "/after")
          r2 = c.getresponse(); r2.read()
          print(r.status, r2.status)
          """.formatted(server.port());
      Completed python = Peers.run(TIMEOUT, Peers.python(), "-c", client).assertSuccess();
      assertThat(python.out().strip()).isEqualTo("501 200");
      Await.until("the client's exchanges", TIMEOUT, () -> recorder.of(python.pid()).size() >= 2);
      assertThat(summary(recorder.of(python.pid()))).containsExactly("PROPFIND /dav/ -> 501", "GET /after -> 200");
    }
  }

  @Test
  void aNodeServerCallingABackendThroughKeepAliveSocketsIsSeenWhole() throws Exception {
    for (int round = 0; round < 3; round++) {
      try (Server backend = Peers.pythonScript(peer("echo_server.py"), Map.of());
          Server node = Peers.server(List.of("node", peer("node_frontend.js").toString(), Integer.toString(backend.port())), Map.of())) {
        long unknownBefore = pipeline.stats().unknownConnection();
        long unpairedBefore = pipeline.stats().unpaired();
        String client = """
            import concurrent.futures, urllib.request
            def get(i):
                with urllib.request.urlopen("%s/item/%%d" %% i) as r:
                    r.read()
                    return r.status
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                print(sum(1 for s in pool.map(get, range(200)) if s == 200))
            """.formatted("http://127.0.0.1:" + node.port());
        Completed python = Peers.run(TIMEOUT, Peers.python(), "-c", client).assertSuccess();
        assertThat(python.out().strip()).isEqualTo("200");
        int finalRound = round;
        Await.until("800 exchanges in round " + round, TIMEOUT,
            () -> recorder.of(python.pid()).size() + recorder.of(node.pid()).size() + recorder.of(backend.pid()).size() >= 800,
            () -> "(round " + finalRound + ": client " + recorder.of(python.pid()).size() + ", node " + recorder.of(node.pid()).size()
                + ", backend " + recorder.of(backend.pid()).size() + ", " + pipeline.stats() + ", " + capture.stats() + ")");
        assertThat(recorder.of(python.pid())).hasSize(200).allSatisfy(e -> assertThat(e.statusCode()).isEqualTo(200));
        assertThat(recorder.of(node.pid()).stream().filter(e -> e.role() == Role.SERVER)).hasSize(200);
        assertThat(recorder.of(node.pid()).stream().filter(e -> e.role() == Role.CLIENT)).hasSize(200)
            .allSatisfy(e -> assertThat(e.request().target()).startsWith("/backend/item/"));
        assertThat(recorder.of(backend.pid())).hasSize(200);
        assertThat(pipeline.stats().unknownConnection() - unknownBefore).isZero();
        assertThat(pipeline.stats().unpaired() - unpairedBefore).isZero();
      }
    }
  }
}
