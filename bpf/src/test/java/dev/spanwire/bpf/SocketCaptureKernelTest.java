package dev.spanwire.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.EventRecorder;
import dev.spanwire.bpf.testing.KernelCondition;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import dev.spanwire.bpf.testing.Peers.Completed;
import dev.spanwire.bpf.testing.Peers.Server;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The capture programs against real clients and servers on loopback. */
@KernelTest
class SocketCaptureKernelTest {
  private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(30);
  private static final String HELLO = "hello, spanwire\n";
  private static final int LARGE = 1 << 20;

  @TempDir static Path files;
  @TempDir static Path work;

  private static final EventRecorder recorder = new EventRecorder();
  private static SocketCapture capture;

  @BeforeAll
  static void startCapture() throws IOException {
    Files.writeString(files.resolve("hello.txt"), HELLO);
    byte[] large = new byte[LARGE];
    new Random(42).nextBytes(large);
    Files.write(files.resolve("large.bin"), large);
    capture = SocketCapture.start(CaptureConfig.defaults(), recorder);
    System.out.println("SocketCaptureKernelTest captures on the " + capture.backend() + " backend");
  }

  @AfterAll
  static void stopCapture() {
    if (capture != null) {
      assertThat(capture.stats().eventsLost()).as("events lost in the kernel").isZero();
      assertThat(capture.stats().malformed()).as("malformed records").isZero();
      capture.close();
    }
  }

  /**
   * The maps of a default capture take at most 32 MiB of kernel memory (the kernel's own charge,
   * from each map fd's fdinfo), the ring buffer's 8 MiB included. Two kinds grow with the host and
   * are bounded apart: the per-CPU data buffers, at most 128 KiB a possible CPU (an event of at
   * most 32 KiB and room around it), and the syscall backend's argument stash, which grows with
   * the host's threads; on the socket backend, which reads arguments from the task's registers,
   * the stash maps keep one entry.
   */
  @Test
  void theMapsOfADefaultCaptureTakeAtMost32MiB() throws IOException {
    java.util.Map<String, Long> memory = new java.util.TreeMap<>(capture.mapMemory());
    assertThat(memory.values()).as("memlock of every map (%s)", memory).allMatch(bytes -> bytes > 0);
    assertThat(memory.get("events")).as("the ring buffer").isGreaterThanOrEqualTo(8L << 20);
    assertThat(memory.remove("data_buffers")).as("the per-CPU data buffers")
        .isLessThanOrEqualTo((128L << 10) * possibleCpus());
    for (String name : List.of("active_reads", "active_writes", "active_connects")) {
      if (capture.backend() == CaptureBackend.SOCKET) {
        assertThat(capture.mapMaxEntries(name)).as("%s's entries on the socket backend", name).isEqualTo(1);
      } else {
        memory.remove(name);
      }
    }
    long total = memory.values().stream().mapToLong(Long::longValue).sum();
    assertThat(total).as("map memory in all (%s)", memory).isLessThanOrEqualTo(32L << 20);
  }

  /** CPUs the kernel may bring up ({@code /sys/devices/system/cpu/possible}: "0-1", "0-3,6"). */
  private static int possibleCpus() throws IOException {
    int count = 0;
    for (String range : Files.readString(Path.of("/sys/devices/system/cpu/possible")).strip().split(",")) {
      String[] ends = range.split("-");
      count += ends.length == 1 ? 1 : Integer.parseInt(ends[1]) - Integer.parseInt(ends[0]) + 1;
    }
    return count;
  }

  /** The one connection {@code pid} opened, after waiting for it. */
  private static ConnectionOpened onlyConnection(long pid) {
    Await.until("a connection of pid " + pid, () -> !recorder.connections(pid).isEmpty());
    List<ConnectionOpened> connections = recorder.connections(pid);
    assertThat(connections).as("connections of pid %d", pid).hasSize(1);
    return connections.getFirst();
  }

  /** The server's connection whose remote end is the client's local end. */
  private static ConnectionOpened peerOf(ConnectionOpened client, long serverPid) {
    Await.until(
        "the server side of " + client.local(),
        () -> recorder.connections(serverPid).stream().anyMatch(c -> c.remote().equals(client.local())));
    return recorder.connections(serverPid).stream()
        .filter(c -> c.remote().equals(client.local()))
        .findFirst()
        .orElseThrow();
  }

  private static void awaitStream(ConnectionOpened connection, Direction direction, long length) {
    Await.until(
        connection.comm() + " " + direction + " stream of " + length + " bytes",
        Duration.ofSeconds(10),
        () -> recorder.streamLength(connection.connectionId(), direction) == length,
        () -> "(have " + recorder.streamLength(connection.connectionId(), direction) + ")");
  }

  /**
   * Both sides of one exchange: the client's connection and the server's, the same request bytes
   * out of one and into the other, the same response bytes back, tuples mirrored, roles right.
   */
  private static void assertExchange(Completed client, Server server, byte[] response, String requestLine) {
    ConnectionOpened clientSide = onlyConnection(client.pid());
    ConnectionOpened serverSide = peerOf(clientSide, server.pid());

    assertThat(clientSide.role()).isEqualTo(Role.CLIENT);
    assertThat(serverSide.role()).isEqualTo(Role.SERVER);
    assertThat(clientSide.remote().getPort()).isEqualTo(server.port());
    assertThat(serverSide.local()).isEqualTo(clientSide.remote());
    assertThat(serverSide.remote()).isEqualTo(clientSide.local());
    assertThat(serverSide.uid()).isEqualTo(0);

    awaitStream(serverSide, Direction.EGRESS, response.length);
    awaitStream(clientSide, Direction.INGRESS, response.length);
    byte[] request = recorder.stream(clientSide.connectionId(), Direction.EGRESS);
    assertThat(new String(request, StandardCharsets.ISO_8859_1)).startsWith(requestLine + "\r\n").endsWith("\r\n\r\n");
    awaitStream(serverSide, Direction.INGRESS, request.length);
    assertThat(recorder.stream(serverSide.connectionId(), Direction.INGRESS)).isEqualTo(request);
    assertThat(recorder.stream(serverSide.connectionId(), Direction.EGRESS)).isEqualTo(response);
    assertThat(recorder.stream(clientSide.connectionId(), Direction.INGRESS)).isEqualTo(response);

    // a read is stamped when it returns, a write when it starts: the peer's read of the bytes comes
    // after the write. On a socket backend without tcp:tcp_sendmsg_locked a write is stamped as
    // its send returns, and the reader it woke on another core may have returned first
    // (SpanIdentities' ORDER_SLACK_NANOS allows for it there)
    long written = recorder.data(clientSide.connectionId(), Direction.EGRESS).getFirst().timestampNanos();
    long read = recorder.data(serverSide.connectionId(), Direction.INGRESS).getFirst().timestampNanos();
    long responded = recorder.data(serverSide.connectionId(), Direction.EGRESS).getFirst().timestampNanos();
    long answered = recorder.data(clientSide.connectionId(), Direction.INGRESS).getFirst().timestampNanos();
    if (writesStampedAtTheirStart()) {
      assertThat(read).isGreaterThanOrEqualTo(written);
      assertThat(answered).isGreaterThanOrEqualTo(responded);
    }
    // within one thread the order holds on both: the server answers after its read returned, the
    // client reads the answer after its write
    assertThat(responded).isGreaterThanOrEqualTo(read);
    assertThat(answered).isGreaterThanOrEqualTo(written);
  }

  @Test
  void curlAndPythonServerSeeTheSameBytes() {
    try (Server server = Peers.pythonHttpServer(files, "127.0.0.1")) {
      Completed curl = Peers.run(CLIENT_TIMEOUT, "curl", "-sS", "-i", server.url("/hello.txt")).assertSuccess();
      assertThat(curl.out()).endsWith(HELLO);
      assertExchange(curl, server, curl.stdout(), "GET /hello.txt HTTP/1.1");

      // HTTP/1.0: the server closes, and so does curl; the totals match the streams
      ConnectionOpened clientSide = onlyConnection(curl.pid());
      Await.until("close of curl's connection", () -> !recorder.closes(clientSide.connectionId()).isEmpty());
      ConnectionClosed closed = recorder.closes(clientSide.connectionId()).getFirst();
      assertThat(closed.bytesIngress()).isEqualTo(curl.stdout().length);
      assertThat(closed.bytesEgress())
          .isEqualTo(recorder.streamLength(clientSide.connectionId(), Direction.EGRESS));
    }
  }

  @Test
  void nginxAnswersWithWritev(@TempDir Path nginxWork) {
    try (Server server = Peers.nginx(files, nginxWork, false, "")) {
      Completed curl = Peers.run(CLIENT_TIMEOUT, "curl", "-sS", "-i", server.url("/hello.txt")).assertSuccess();
      assertExchange(curl, server, curl.stdout(), "GET /hello.txt HTTP/1.1");
      ConnectionOpened serverSide = peerOf(onlyConnection(curl.pid()), server.pid());
      assertThat(recorder.data(serverSide.connectionId(), Direction.EGRESS))
          .extracting(DataCaptured::source)
          .contains(Source.WRITEV);
    }
  }

  /** A server that reads with recvmsg into four buffers (one empty) and answers with sendmsg of five (one empty). */
  private static final String VECTORED_SERVER = """
      import socket
      s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
      print("port %d" % s.getsockname()[1], flush=True)
      while True:
          c, _ = s.accept()
          got = b""
          while b"\\r\\n\\r\\n" not in got:
              bufs = [bytearray(16), bytearray(0), bytearray(5), bytearray(4096)]
              n = c.recvmsg_into(bufs)[0]
              if n == 0:
                  break
              got += b"".join(bytes(b) for b in bufs)[:n]
          if got:
              c.sendmsg([b"HTTP/1.1 200 OK\\r\\n", b"", b"Content-Length: 5\\r\\n\\r\\n", b"he", b"llo"])
          c.close()
      """;

  /** A client that sends its request with sendmsg of twelve buffers (two empty) and reads with readv into three. */
  private static final String VECTORED_CLIENT = """
      import os, socket, sys
      c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
      c.sendmsg([b"GET /vectored HTTP/1.1\\r\\n", b"", b"Host: vec", b"tor\\r\\n", b"X-A: 1\\r\\n", b"X-B: 2\\r\\n",
                 b"", b"X-C: ", b"3", b"\\r\\n", b"X-D: 4\\r\\n", b"\\r\\n"])
      got = b""
      while not got.endswith(b"hello"):
          bufs = [bytearray(10), bytearray(0), bytearray(200)]
          n = os.readv(c.fileno(), bufs)
          if n == 0:
              break
          got += b"".join(bytes(b) for b in bufs)[:n]
      sys.stdout.buffer.write(got)
      """;

  /**
   * Bytes spread over many buffers (twelve, the most the kernel copies from; empty ones and short
   * ones among them) arrive whole and in order, from sendmsg, recvmsg and readv alike.
   */
  @Test
  void vectoredCallsOfManySmallAndEmptyBuffersAreCopiedWhole() {
    try (Server server = Peers.server(List.of(Peers.python(), "-c", VECTORED_SERVER), java.util.Map.of())) {
      Completed client = Peers.run(CLIENT_TIMEOUT, Peers.python(), "-c", VECTORED_CLIENT, String.valueOf(server.port()))
          .assertSuccess();
      String response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
      assertThat(client.out()).isEqualTo(response);
      assertExchange(client, server, response.getBytes(StandardCharsets.ISO_8859_1), "GET /vectored HTTP/1.1");
      ConnectionOpened clientSide = onlyConnection(client.pid());
      ConnectionOpened serverSide = peerOf(clientSide, server.pid());
      assertThat(new String(recorder.stream(clientSide.connectionId(), Direction.EGRESS), StandardCharsets.ISO_8859_1))
          .isEqualTo("GET /vectored HTTP/1.1\r\nHost: vector\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\nX-D: 4\r\n\r\n");
      assertThat(recorder.data(clientSide.connectionId(), Direction.EGRESS)).extracting(DataCaptured::source)
          .containsOnly(Source.SENDMSG);
      assertThat(recorder.data(clientSide.connectionId(), Direction.INGRESS)).extracting(DataCaptured::source)
          .containsOnly(Source.READV);
      assertThat(recorder.data(serverSide.connectionId(), Direction.INGRESS)).extracting(DataCaptured::source)
          .containsOnly(Source.RECVMSG);
      assertThat(recorder.data(serverSide.connectionId(), Direction.EGRESS)).extracting(DataCaptured::source)
          .containsOnly(Source.SENDMSG);
    }
  }

  @Test
  void sendfileBodyCountsInPositionsWithoutBytes(@TempDir Path nginxWork) {
    try (Server server = Peers.nginx(files, nginxWork, true, "")) {
      Completed curl = Peers.run(CLIENT_TIMEOUT, "curl", "-sS", "-i", server.url("/large.bin")).assertSuccess();
      ConnectionOpened clientSide = onlyConnection(curl.pid());
      ConnectionOpened serverSide = peerOf(clientSide, server.pid());
      awaitStream(serverSide, Direction.EGRESS, curl.stdout().length);
      List<DataCaptured> sent = recorder.data(serverSide.connectionId(), Direction.EGRESS);
      assertContiguous(sent, curl.stdout().length);
      List<DataCaptured> sendfiles = sent.stream().filter(d -> d.source() == Source.SENDFILE).toList();
      assertThat(sendfiles).isNotEmpty().allSatisfy(d -> assertThat(d.payload()).isEmpty());
      assertThat(sendfiles.stream().mapToLong(DataCaptured::length).sum()).isEqualTo(LARGE);
    }
  }

  private static boolean writesStampedAtTheirStart() {
    return capture.backend() == CaptureBackend.SYSCALL || SocketTracepoints.sendStartAvailable();
  }

  /**
   * A write is stamped when it starts, not when it returns: one blocking send of more than both
   * socket buffers hold returns only after the peer has read most of it, so a stamp taken as it
   * returned would come after the peer's first read; taken at its start, it comes before.
   */
  @Test
  void aBlockingSendIsStampedBeforeThePeerReadsItsFirstBytes() {
    KernelCondition.assumeKernelHas("aBlockingSendIsStampedBeforeThePeerReadsItsFirstBytes", writesStampedAtTheirStart(),
        "tcp:tcp_sendmsg_locked tracepoint for the socket backend");
    long body = 2 * (maxBuffer("tcp_rmem") + maxBuffer("tcp_wmem"));
    String script = String.join("\n",
        "import socket, threading",
        "body = " + body,
        "head = b'POST /upload HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: %d\\r\\n\\r\\n' % body",
        "listener = socket.socket(); listener.bind(('127.0.0.1', 0)); listener.listen(1)",
        "def serve():",
        "    conn, _ = listener.accept()",
        "    want = len(head) + body",
        "    while want > 0:",
        "        chunk = conn.recv(65536)",
        "        if not chunk: break",
        "        want -= len(chunk)",
        "    conn.sendall(b'HTTP/1.1 204 No Content\\r\\n\\r\\n')",
        "    conn.close()",
        "server = threading.Thread(target=serve); server.start()",
        "client = socket.create_connection(listener.getsockname())",
        // one send call: a blocking socket's send returns when all of it is in the kernel
        "sent = client.send(head + bytes(body))",
        "assert sent == len(head) + body, sent",
        "reply = client.recv(4096)",
        "assert reply.startswith(b'HTTP/1.1 204'), reply",
        "server.join(); client.close()");
    Completed python = Peers.run(CLIENT_TIMEOUT, Peers.python(), "-c", script).assertSuccess();
    Await.until("both ends of the upload", () -> recorder.connections(python.pid()).size() == 2);
    ConnectionOpened clientSide = recorder.connections(python.pid()).stream().filter(c -> c.role() == Role.CLIENT).findFirst().orElseThrow();
    ConnectionOpened serverSide = peerOf(clientSide, python.pid());
    String head = "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + body + "\r\n\r\n";
    awaitStream(serverSide, Direction.INGRESS, head.length() + body);
    awaitStream(clientSide, Direction.EGRESS, head.length() + body);

    List<DataCaptured> sent = recorder.data(clientSide.connectionId(), Direction.EGRESS);
    List<DataCaptured> received = recorder.data(serverSide.connectionId(), Direction.INGRESS);
    assertThat(sent).as("the one send").hasSize(1);
    assertThat(received.size()).as("the server's reads").isGreaterThan(1);
    assertThat(sent.getFirst().timestampNanos()).isLessThanOrEqualTo(received.getFirst().timestampNanos());
  }

  /**
   * A send that moved nothing (EAGAIN on a full socket) leaves no start behind: the next send,
   * made after the socket drained, is stamped when it started, not when the refused one did.
   */
  @Test
  void aSendRefusedWithEagainLeavesNoStampForTheNextOne() {
    KernelCondition.assumeKernelHas("aSendRefusedWithEagainLeavesNoStampForTheNextOne", writesStampedAtTheirStart(),
        "tcp:tcp_sendmsg_locked tracepoint for the socket backend");
    String script = String.join("\n",
        "import socket, threading, time, select",
        "listener = socket.socket(); listener.bind(('127.0.0.1', 0)); listener.listen(1)",
        "drain = threading.Event(); total = [0]",
        "def serve():",
        "    conn, _ = listener.accept()",
        "    drain.wait()",
        "    got = 0",
        "    while True:",
        "        chunk = conn.recv(65536)",
        "        if not chunk: break",
        "        got += len(chunk)",
        "    total[0] = got",
        "server = threading.Thread(target=serve); server.start()",
        "client = socket.create_connection(listener.getsockname()); client.setblocking(False)",
        "sent = client.send(b'POST /fill HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n')",
        "block = b'x' * 65536",
        "while True:",
        "    try: sent += client.send(block)",
        "    except BlockingIOError: break",
        // the refused send is over: whatever the next send is stamped must come after this
        "mark = time.clock_gettime_ns(time.CLOCK_MONOTONIC)",
        "drain.set()",
        "select.select([], [client], [])",
        "before = sent",
        "sent += client.send(b'tail')",
        "client.shutdown(socket.SHUT_WR); server.join(); client.close()",
        "assert total[0] == sent, (total[0], sent)",
        "print(mark, before, sent)");
    Completed python = Peers.run(CLIENT_TIMEOUT, Peers.python(), "-c", script).assertSuccess();
    String[] printed = python.out().trim().split(" ");
    long mark = Long.parseLong(printed[0]);
    long before = Long.parseLong(printed[1]);
    long total = Long.parseLong(printed[2]);
    Await.until("the client's connection", () -> recorder.connections(python.pid()).stream().anyMatch(c -> c.role() == Role.CLIENT));
    ConnectionOpened clientSide = recorder.connections(python.pid()).stream().filter(c -> c.role() == Role.CLIENT).findFirst().orElseThrow();
    awaitStream(clientSide, Direction.EGRESS, total);

    DataCaptured next = recorder.data(clientSide.connectionId(), Direction.EGRESS).stream()
        .filter(d -> d.position() == before).findFirst().orElseThrow();
    assertThat(next.timestampNanos()).isGreaterThanOrEqualTo(mark);
  }

  /**
   * A TLS library's probes capture nothing until all of them are in place: attached one by one,
   * a client's request probe would otherwise run before its answer's and the pairing would be off
   * by the requests it saw alone. Unarmed (the library's sequence number above what is armed),
   * curl's HTTPS exchange gives no plaintext; armed again, the next one does.
   */
  @Test
  void tlsProbesCaptureNoPlaintextUntilTheirLibraryIsArmed(@TempDir Path nginxWork, @TempDir Path certificates) {
    TlsLibraries tls = capture.tls().orElseThrow();
    long sequence = tls.attachSequence();
    KernelCondition.assumeKernelHas("tlsProbesCaptureNoPlaintextUntilTheirLibraryIsArmed", sequence > 0,
        "attach cookies (5.15+), or no libssl attached");
    Peers.selfSignedCertificate(certificates);
    try (Server nginx = Peers.nginx(files, nginxWork, false, "", certificates)) {
      tls.arm(0);
      Completed unarmed;
      try {
        unarmed = Peers.run(CLIENT_TIMEOUT, "curl", "-sk", "-o", "/dev/null", nginx.httpsUrl("/hello.txt")).assertSuccess();
      } finally {
        tls.arm(sequence);
      }
      Completed armed = Peers.run(CLIENT_TIMEOUT, "curl", "-sk", "-o", "/dev/null", nginx.httpsUrl("/hello.txt")).assertSuccess();
      Await.until("curl's plaintext once armed", () -> tlsData(armed.pid()).stream()
          .anyMatch(d -> new String(d.payload(), StandardCharsets.ISO_8859_1).startsWith("GET /hello.txt HTTP/1.1\r\n")));
      // the ring keeps the order: any plaintext of the first curl, which ended before the second
      // began, came before the second's
      assertThat(tlsData(unarmed.pid())).as("plaintext of the unarmed exchange").isEmpty();
    }
  }

  /**
   * The socket (or syscall) programs capture nothing until all of them are attached: unarmed, a
   * whole exchange gives no data event; armed again, the next one does.
   */
  @Test
  void socketProgramsCaptureNothingUntilArmed() {
    try (Server server = Peers.pythonHttpServer(files, "127.0.0.1")) {
      capture.arm(false);
      Completed unarmed;
      try {
        unarmed = Peers.run(CLIENT_TIMEOUT, "curl", "-sS", "-o", "/dev/null", server.url("/hello.txt")).assertSuccess();
      } finally {
        capture.arm(true);
      }
      Completed armed = Peers.run(CLIENT_TIMEOUT, "curl", "-sS", "-o", "/dev/null", "-w", "%{size_header} %{size_download}",
          server.url("/hello.txt")).assertSuccess();
      String[] sizes = armed.out().split(" ");
      awaitStream(onlyConnection(armed.pid()), Direction.INGRESS, Long.parseLong(sizes[0]) + Long.parseLong(sizes[1]));
      // the ring keeps the order: data of the first curl, which ended before the second began,
      // would have come before the second's
      assertThat(recorder.snapshot()).filteredOn(e -> e instanceof DataCaptured d && d.pid() == unarmed.pid())
          .as("data of the unarmed exchange").isEmpty();
    }
  }

  private static List<DataCaptured> tlsData(long pid) {
    return recorder.snapshot().stream()
        .filter(e -> e instanceof DataCaptured d && d.pid() == pid && d.tls())
        .map(e -> (DataCaptured) e)
        .toList();
  }

  /** The largest buffer net.ipv4.{name} lets a TCP socket grow to ("min default max"). */
  private static long maxBuffer(String name) {
    try {
      String[] fields = Files.readAllLines(Path.of("/proc/sys/net/ipv4/" + name)).getFirst().trim().split("\\s+");
      return Long.parseLong(fields[2]);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void largeResponseAdvancesPositionsByItsFullLengthCapturingOnlyTheCap() {
    try (Server server = Peers.pythonHttpServer(files, "127.0.0.1")) {
      Completed curl =
          Peers.run(CLIENT_TIMEOUT, "curl", "-sS", "-o", "/dev/null", "-w", "%{size_header} %{size_download}", server.url("/large.bin"))
              .assertSuccess();
      String[] sizes = curl.out().split(" ");
      long total = Long.parseLong(sizes[0]) + Long.parseLong(sizes[1]);
      assertThat(Long.parseLong(sizes[1])).isEqualTo(LARGE);

      ConnectionOpened clientSide = onlyConnection(curl.pid());
      ConnectionOpened serverSide = peerOf(clientSide, server.pid());
      awaitStream(serverSide, Direction.EGRESS, total);
      awaitStream(clientSide, Direction.INGRESS, total);
      for (ConnectionOpened side : List.of(serverSide, clientSide)) {
        Direction direction = side == serverSide ? Direction.EGRESS : Direction.INGRESS;
        List<DataCaptured> events = recorder.data(side.connectionId(), direction);
        assertContiguous(events, total);
        assertThat(events).allSatisfy(d -> assertThat(d.payload().length).isLessThanOrEqualTo(CaptureConfig.DEFAULT_CAPTURE_BYTES));
        assertThat(events).anySatisfy(d -> assertThat(d.truncated()).isTrue());
        assertThat(events.stream().mapToLong(d -> d.payload().length).sum()).isLessThan(total);
      }
    }
  }

  private static void assertContiguous(List<DataCaptured> events, long total) {
    long expected = 0;
    for (DataCaptured d : events) {
      assertThat(d.position()).as("position of %s", d).isEqualTo(expected);
      assertThat(d.payload().length).isLessThanOrEqualTo(d.length());
      expected += d.length();
    }
    assertThat(expected).isEqualTo(total);
  }

  /**
   * A small ring buffer wraps often; a record that runs past the end of the data area is put
   * back together from the two ends. Every body byte that arrives must be the file's byte at that
   * place (events the small ring had no room for are lost, and counted; they do not matter here).
   */
  @Test
  void recordsThatWrapPastTheRingsEndArriveWhole() throws IOException {
    EventRecorder own = new EventRecorder();
    byte[] file = Files.readAllBytes(files.resolve("large.bin"));
    try (Server server = Peers.pythonHttpServer(files, "127.0.0.1");
        SocketCapture small =
            SocketCapture.start(
                CaptureConfig.defaults().withTargetPid((int) server.pid()).withRingBufferBytes(16 << 10).withWakeupBytes(1),
                own)) {
      int rounds = 0;
      while (small.wrappedRecords() < 3 && rounds++ < 40) {
        Completed curl = Peers.run(CLIENT_TIMEOUT, "curl", "-sS", "-o", "/dev/null", "-w", "%{size_header}", server.url("/large.bin"))
            .assertSuccess();
        long headerBytes = Long.parseLong(curl.out().strip());
        // the close, unless the small ring lost it: then whatever came within the deadline
        long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (own.snapshot().stream().noneMatch(e -> e instanceof ConnectionClosed) && System.nanoTime() < deadline) {
          Await.pause(Duration.ofMillis(5));
        }
        for (SocketEvent event : own.snapshot()) {
          if (event instanceof DataCaptured d && d.direction() == Direction.EGRESS && d.position() >= headerBytes) {
            int at = (int) (d.position() - headerBytes);
            assertThat(d.payload()).as("body bytes at %d", at)
                .isEqualTo(java.util.Arrays.copyOfRange(file, at, at + d.payload().length));
          }
        }
        own.clear();
      }
      assertThat(small.wrappedRecords()).as("records that wrapped, in %d rounds", rounds).isGreaterThanOrEqualTo(3);
    }
  }

  /** IRQ work interrupts on all CPUs so far ({@code /proc/interrupts}), or -1 where the kernel does not list them. */
  private static long irqWorkInterrupts() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/interrupts"))) {
      if (line.endsWith("IRQ work interrupts")) {
        long sum = 0;
        for (String field : line.substring(line.indexOf(':') + 1).trim().split("\\s+")) {
          if (!field.chars().allMatch(Character::isDigit)) {
            break;
          }
          sum += Long.parseLong(field);
        }
        return sum;
      }
    }
    return -1;
  }

  /**
   * A reader that is behind is not woken for every record: the kernel wakes it when the waiting
   * data passes each multiple of the wakeup size. A wakeup is an interrupt the kernel raises on the
   * traced process's CPU (IRQ work, a trapped APIC write in a VM), paid in the traced process's
   * syscall; waking on every record once a 4 KiB threshold was passed cost that for each of them.
   * The reader is held on its first event while nginx answers 300 requests on one keep-alive
   * connection (600 records waiting, about 40 multiples of 4 KiB); the host's IRQ work
   * interrupts in that time must stay far below one per record.
   */
  @Test
  void aReaderBehindIsWokenOncePerWakeupSizeNotForEveryRecord(@TempDir Path nginxWork) throws Exception {
    int requests = 300;
    try (Server server = Peers.nginx(files, nginxWork, false, "")) {
      // 600 records of the second curl wait behind the held one, about 40 multiples of 4 KiB of
      // them; one interrupt per record was the old way
      long interrupts = interruptsWhileHeld(server, 4096, requests, 2 + 4 * requests);
      assertThat(interrupts).as("IRQ work interrupts while %d records waited", 2 * requests).isLessThan(requests / 2);
    }
  }

  /**
   * A connection opened by a process the reader has heard of waits like any record: only a
   * process's first wakes the reader at once (it reads the process's /proc entry, which may not
   * last). Python's server closes each connection, so curl opens one per request: 100 opens by
   * the server's process while the reader is held, with a wakeup size no record reaches.
   */
  @Test
  void connectionsOfAKnownProcessDoNotWakeTheReader() throws Exception {
    int requests = 100;
    try (Server server = Peers.pythonHttpServer(files, "127.0.0.1")) {
      // per request of each curl: an open, the request, the response (its close may come later)
      long interrupts = interruptsWhileHeld(server, 1 << 20, requests, 6 * requests);
      assertThat(interrupts).as("IRQ work interrupts while %d connections opened", requests).isLessThan(requests / 4);
    }
  }

  /**
   * The host's IRQ work interrupts while {@code requests} requests (one curl) were captured from
   * {@code server} and the reader was held on an earlier event (a curl of the same requests before,
   * so the server's process is known); {@code records} is what both curls' events come to, awaited
   * after the reader goes on.
   */
  private static long interruptsWhileHeld(Server server, int wakeupBytes, int requests, int records) throws Exception {
    if (irqWorkInterrupts() < 0) {
      String reason = "this kernel lists no IRQ work interrupts in /proc/interrupts";
      assertThat(dev.spanwire.bpf.testing.Ci.on()).as(reason + ", under CI").isFalse();
      org.junit.jupiter.api.Assumptions.abort(reason);
    }
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicBoolean holding = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicInteger seen = new java.util.concurrent.atomic.AtomicInteger();
    SocketEventHandler handler = event -> {
      if (holding.compareAndSet(false, true)) {
        try {
          release.await(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      seen.incrementAndGet();
    };
    try (SocketCapture capture = SocketCapture.start(
        CaptureConfig.defaults().withTargetPid((int) server.pid()).withRingBufferBytes(1 << 20).withWakeupBytes(wakeupBytes),
        handler)) {
      List<String> command = new java.util.ArrayList<>(List.of("curl", "-sS", "-o", "/dev/null"));
      for (int i = 0; i < requests; i++) {
        command.add(server.url("/hello.txt?request=" + i));
      }
      Peers.run(CLIENT_TIMEOUT, command.toArray(String[]::new)).assertSuccess();
      Await.until("the held reader", holding::get);
      long before = irqWorkInterrupts();
      Peers.run(CLIENT_TIMEOUT, command.toArray(String[]::new)).assertSuccess();
      long interrupts = irqWorkInterrupts() - before;
      release.countDown();
      Await.until("both curls' records", CLIENT_TIMEOUT, () -> seen.get() >= records,
          () -> "(have " + seen.get() + ", stats " + capture.stats() + ")");
      assertThat(capture.stats().eventsLost()).as("events lost").isZero();
      return interrupts;
    }
  }

  /** The calling thread's nice value as the kernel shows it (field 19 of its stat line). */
  private static int niceOf(String task) throws IOException {
    String stat = Files.readString(Path.of(task, "stat"));
    return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[19 - 3]);
  }

  /**
   * A reader that falls a quarter of the ring behind runs at its catch-up nice value until it has
   * caught up, then at its own again; one that keeps up never changes it. The handler holds the
   * reader on the first event while 30 requests fill a 64 KiB ring (a cold JIT, a starved thread),
   * and reads its own thread's nice value from the kernel for each event after. The reader is woken
   * for each KiB: at the default eighth of the ring (8 KiB), this handler, slowed by reading /proc
   * for every event, is a quarter behind by the time it has read a wakeup's worth of python's burst.
   */
  @Test
  void aReaderThatFallsBehindRunsAtItsCatchUpNiceUntilItHasCaughtUp() throws Exception {
    int own = niceOf("/proc/thread-self"); // the reader thread inherits this thread's
    for (boolean held : new boolean[] {true, false}) {
      java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(held ? 1 : 0);
      List<Integer> nice = new java.util.concurrent.CopyOnWriteArrayList<>();
      java.util.concurrent.atomic.AtomicReference<String> task = new java.util.concurrent.atomic.AtomicReference<>();
      java.util.concurrent.atomic.AtomicInteger closes = new java.util.concurrent.atomic.AtomicInteger();
      SocketEventHandler handler = event -> {
        try {
          if (task.get() == null) {
            task.set("/proc/" + Files.readSymbolicLink(Path.of("/proc/thread-self")));
            release.await();
          } else {
            nice.add(niceOf("/proc/thread-self"));
          }
        } catch (IOException | InterruptedException e) {
          throw new IllegalStateException(e);
        }
        if (event instanceof ConnectionClosed) {
          closes.incrementAndGet();
        }
      };
      try (Server server = Peers.pythonHttpServer(files, "127.0.0.1");
          SocketCapture capture = SocketCapture.start(
              CaptureConfig.defaults().withTargetPid((int) server.pid()).withRingBufferBytes(64 << 10).withWakeupBytes(1 << 10)
                  .withCatchUpNice(own - 7),
              handler)) {
        if (held) {
          List<String> command = new java.util.ArrayList<>(List.of("curl", "-sS", "-o", "/dev/null"));
          for (int i = 0; i < 30; i++) {
            command.add(server.url("/hello.txt?request=" + i));
          }
          Peers.run(CLIENT_TIMEOUT, command.toArray(String[]::new)).assertSuccess();
        } else {
          // one request at a time, each read before the next: a reader that keeps up whatever the
          // host's speed (this handler, reading /proc per event, fell a quarter behind a burst of
          // 30 on a slow CI run)
          for (int i = 0; i < 30; i++) {
            Peers.run(CLIENT_TIMEOUT, "curl", "-sS", "-o", "/dev/null", server.url("/hello.txt?request=" + i)).assertSuccess();
            int closed = i + 1;
            Await.until("connection " + closed + " closed", CLIENT_TIMEOUT, () -> closes.get() == closed,
                () -> "(have " + closes.get() + ", stats " + capture.stats() + ")");
          }
        }
        if (held) {
          // the first event waits in the handler; the 30 exchanges wait in the ring behind it
          Await.until("the held reader", () -> task.get() != null);
          release.countDown();
        }
        // python's server closes each connection: 30 closes (the first event is not one)
        Await.until("30 closed connections", CLIENT_TIMEOUT, () -> closes.get() == 30,
            () -> "(have " + closes.get() + ", stats " + capture.stats() + ")");
        assertThat(capture.stats().eventsLost()).as("events lost").isZero();
        if (held) {
          // the records the kernel had written when the held one was read form that batch: the
          // reader learns how far behind it is when the next one starts
          int first = 0;
          while (first < nice.size() && nice.get(first) == own) {
            first++;
          }
          int caughtUp = first;
          while (caughtUp < nice.size() && nice.get(caughtUp) == own - 7) {
            caughtUp++;
          }
          assertThat(first).as("events of the batch under way, of %s", nice).isLessThanOrEqualTo(8);
          // behind until no more than 8 KiB (an eighth) waited: most of the 30 exchanges' events
          assertThat(caughtUp - first).as("events read while behind, of %s", nice).isGreaterThan(50);
          assertThat(nice.subList(caughtUp, nice.size())).as("events read once caught up, of %s", nice).containsOnly(own);
          Await.until("the reader back at its own nice value", () -> {
            try {
              return niceOf(task.get()) == own;
            } catch (IOException e) {
              return false;
            }
          });
          assertThat(capture.stats().catchUps()).isEqualTo(1);
        } else {
          assertThat(nice).as("every event of a reader that keeps up").containsOnly(own);
          assertThat(capture.stats().catchUps()).isZero();
        }
      }
    }
  }

  /**
   * A handler still running after {@code close()} stopped waiting for the reader (a long last
   * drain: the wait is bounded) finds the kernel's table closed: nothing found, forgetting and
   * hints do nothing. It used the maps of the closed object before, freed memory in libbpf: the
   * agent died in libc (SIGSEGV formatting libbpf's warning about the freed map) when stopped in
   * the middle of a drain.
   */
  @Test
  void aHandlerStillRunningAfterCloseFindsTheTableClosed() throws Exception {
    java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicReference<SocketCapture> table = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicReference<Object> afterClose = new java.util.concurrent.atomic.AtomicReference<>();
    SocketEventHandler handler = event -> {
      if (event instanceof ConnectionOpened opened && held.getCount() > 0) {
        held.countDown();
        try {
          release.await(30, java.util.concurrent.TimeUnit.SECONDS);
          ConnectionTable connections = table.get().connections();
          var found = connections.find(opened.key(), opened.connectionId());
          connections.forget(opened.key(), opened.connectionId());
          connections.skipUntil(opened.key(), opened.connectionId(), Direction.INGRESS, 1 << 20);
          afterClose.set(found);
        } catch (Throwable t) {
          afterClose.set(t);
        }
        done.countDown();
      }
    };
    try (Server server = Peers.pythonHttpServer(files, "127.0.0.1")) {
      SocketCapture own = SocketCapture.start(CaptureConfig.defaults().withTargetPid((int) server.pid()), handler);
      table.set(own);
      try {
        Peers.run(CLIENT_TIMEOUT, "curl", "-sS", "-o", "/dev/null", server.url("/hello.txt")).assertSuccess();
        assertThat(held.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("the handler holds the first connection").isTrue();
      } finally {
        own.close(); // waits for the held reader a while, then closes the object under it
      }
      release.countDown();
      assertThat(done.await(30, java.util.concurrent.TimeUnit.SECONDS)).as("the handler finished").isTrue();
      assertThat(afterClose.get()).as("what the table gave after close").isEqualTo(java.util.Optional.empty());
      assertThat(own.stats().eventsLost()).as("events lost").isZero();
    }
  }

  /**
   * A batch ends where the producer stood when it began: records the kernel wrote while the
   * handler was busy come in the next batch, after {@code afterBatch}. Found by bench/soak.sh: an
   * overloaded agent drained until the ring was empty, which it never was, so the pipeline's
   * time-driven work (expiry, sweeps) never ran and the heap ran out.
   */
  @Test
  void recordsWrittenDuringABatchComeAfterItsAfterBatch() throws Exception {
    java.util.concurrent.atomic.AtomicInteger batches = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.CountDownLatch busy = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    java.util.Map<Long, Integer> openedInBatch = new java.util.concurrent.ConcurrentHashMap<>();
    SocketEventHandler blocking = new SocketEventHandler() {
      @Override
      public void onEvent(SocketEvent event) {
        if (event instanceof ConnectionOpened opened) {
          openedInBatch.putIfAbsent(opened.connectionId(), batches.get());
          if (busy.getCount() > 0) {
            busy.countDown();
            try {
              release.await(30, java.util.concurrent.TimeUnit.SECONDS); // the handler is busy
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        }
      }

      @Override
      public void afterBatch() {
        batches.incrementAndGet();
      }
    };
    try (Server server = Peers.pythonHttpServer(files, "127.0.0.1");
        SocketCapture own = SocketCapture.start(CaptureConfig.defaults().withTargetPid((int) server.pid()), blocking)) {
      Peers.run(CLIENT_TIMEOUT, "curl", "-sS", "-o", "/dev/null", server.url("/hello.txt")).assertSuccess();
      assertThat(busy.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("the first connection reached the handler").isTrue();
      // while the handler holds the first batch, a second connection's records go into the ring
      // (the kernel writes them inside curl's syscalls, so they are there once curl is done)
      Peers.run(CLIENT_TIMEOUT, "curl", "-sS", "-o", "/dev/null", server.url("/hello.txt")).assertSuccess();
      release.countDown();
      Await.until("both connections handled", () -> openedInBatch.size() == 2);
      List<Integer> seen = openedInBatch.entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
          .map(java.util.Map.Entry::getValue).toList();
      assertThat(seen.get(1)).as("the second connection's batch (the first was handled in batch %d)", seen.get(0))
          .isGreaterThan(seen.get(0));
    }
  }

  @Test
  void ipv6LoopbackExchange() {
    try (Server server = Peers.pythonHttpServer(files, "::1")) {
      Completed curl = Peers.run(CLIENT_TIMEOUT, "curl", "-sS", "-g", "-i", server.url("/hello.txt")).assertSuccess();
      assertExchange(curl, server, curl.stdout(), "GET /hello.txt HTTP/1.1");
      ConnectionOpened clientSide = onlyConnection(curl.pid());
      assertThat(clientSide.local().getAddress()).isInstanceOf(Inet6Address.class);
      assertThat(clientSide.remote().getAddress().isLoopbackAddress()).isTrue();
    }
  }

  @Test
  void javaHttpUrlConnectionClientUsesReadAndWrite(@TempDir Path clientDir) throws IOException {
    Path source = clientDir.resolve("HttpUrlClient.java");
    try (InputStream in = getClass().getResourceAsStream("HttpUrlClient.java")) {
      Files.write(source, in.readAllBytes());
    }
    String java = ProcessHandle.current().info().command().orElse("java");
    try (Server server = Peers.pythonHttpServer(files, "127.0.0.1")) {
      Completed client = Peers.run(CLIENT_TIMEOUT, java, source.toString(), server.url("/hello.txt")).assertSuccess();
      assertThat(client.out()).isEqualTo(HELLO);
      ConnectionOpened clientSide = onlyConnection(client.pid());
      ConnectionOpened serverSide = peerOf(clientSide, server.pid());
      Await.until("the response on both sides", () ->
          recorder.streamLength(serverSide.connectionId(), Direction.EGRESS) > 0
              && recorder.streamLength(clientSide.connectionId(), Direction.INGRESS)
                  == recorder.streamLength(serverSide.connectionId(), Direction.EGRESS)
              && !recorder.closes(serverSide.connectionId()).isEmpty());
      byte[] response = recorder.stream(serverSide.connectionId(), Direction.EGRESS);
      assertThat(new String(response, StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.0 200 OK\r\n").endsWith(HELLO);
      assertThat(recorder.stream(clientSide.connectionId(), Direction.INGRESS)).isEqualTo(response);
      assertThat(recorder.stream(clientSide.connectionId(), Direction.EGRESS))
          .isEqualTo(recorder.stream(serverSide.connectionId(), Direction.INGRESS));
      assertThat(recorder.data(clientSide.connectionId(), Direction.EGRESS)).extracting(DataCaptured::source).containsOnly(Source.WRITE);
      assertThat(recorder.data(clientSide.connectionId(), Direction.INGRESS)).extracting(DataCaptured::source).containsOnly(Source.READ);
    }
  }

  @Test
  void nonHttpConnectionSendsNoPayload() throws InterruptedException {
    int port = Peers.freePort();
    Process echo = startEcho(port);
    try {
      assertThat(echoOnce(port)).isEqualTo("hello echo\n");
      // a later HTTP exchange is captured, so anything of the echo would have been seen by now
      try (Server server = Peers.pythonHttpServer(files, "127.0.0.1")) {
        Completed curl = Peers.run(CLIENT_TIMEOUT, "curl", "-sS", "-i", server.url("/hello.txt")).assertSuccess();
        awaitStream(onlyConnection(curl.pid()), Direction.INGRESS, curl.stdout().length);
      }
      assertThat(recorder.connectionsOnPort(port)).isEmpty();
      // the echo's own exec and exit are process events every process gets; no socket event of it
      assertThat(recorder.snapshot())
          .filteredOn(e -> !(e instanceof ProcessExecuted) && !(e instanceof ProcessExited))
          .noneMatch(e -> e.pid() == echo.pid());
    } finally {
      echo.destroyForcibly().waitFor();
    }
  }

  /** socat echoing one TCP connection on 127.0.0.1:port. */
  private static Process startEcho(int port) {
    Peers.require("socat");
    Process echo =
        Peers.startServer(List.of("socat", "TCP-LISTEN:" + port + ",bind=127.0.0.1,reuseaddr", "SYSTEM:cat"));
    Await.until("socat to listen on " + port, () -> listening(port));
    return echo;
  }

  /** One line through the echo, as a non-HTTP client would send it. */
  private static String echoOnce(int port) {
    return Peers.run(CLIENT_TIMEOUT, "bash", "-c", "printf 'hello echo\\n' | socat -t 2 - TCP:127.0.0.1:" + port)
        .assertSuccess()
        .out();
  }

  private static boolean listening(int port) {
    try {
      return Files.readAllLines(Path.of("/proc/net/tcp")).stream()
          .anyMatch(line -> line.contains(String.format(":%04X 00000000:0000 0A", port)));
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void capturePortSendsNonHttpPayload() throws InterruptedException {
    int port = Peers.freePort();
    EventRecorder portRecorder = new EventRecorder();
    try (SocketCapture portCapture =
        SocketCapture.start(CaptureConfig.defaults().withCapturePorts(List.of(port)), portRecorder)) {
      Process echo = startEcho(port);
      try {
        assertThat(echoOnce(port)).isEqualTo("hello echo\n");
        Await.until(
            "the echo on the capture port",
            () -> portRecorder.connectionsOnPort(port).stream()
                .anyMatch(c -> c.pid() == echo.pid() && portRecorder.streamLength(c.connectionId(), Direction.EGRESS) == 11));
        ConnectionOpened serverSide =
            portRecorder.connectionsOnPort(port).stream().filter(c -> c.pid() == echo.pid()).findFirst().orElseThrow();
        assertThat(new String(portRecorder.stream(serverSide.connectionId(), Direction.INGRESS), StandardCharsets.US_ASCII))
            .isEqualTo("hello echo\n");
        assertThat(serverSide.role()).isEqualTo(Role.SERVER);
      } finally {
        echo.destroyForcibly().waitFor();
      }
    }
  }

  @Test
  void pidFilterTracesOnlyThatProcess() {
    try (Server server = Peers.pythonHttpServer(files, "127.0.0.1")) {
      EventRecorder onlyServer = new EventRecorder();
      try (SocketCapture filtered =
          SocketCapture.start(CaptureConfig.defaults().withTargetPid((int) server.pid()), onlyServer)) {
        Completed curl = Peers.run(CLIENT_TIMEOUT, "curl", "-sS", "-i", server.url("/hello.txt")).assertSuccess();
        Await.until(
            "the server's response",
            () -> onlyServer.connections(server.pid()).stream()
                .anyMatch(c -> onlyServer.streamLength(c.connectionId(), Direction.EGRESS) == curl.stdout().length));
        // the unfiltered capture saw curl, so the filtered one had the chance to
        onlyConnection(curl.pid());
        assertThat(onlyServer.snapshot()).allMatch(e -> e.pid() == server.pid());
      }
    }
  }

  @Test
  void captureIgnoresItsOwnProcess() throws IOException {
    try (Server server = Peers.pythonHttpServer(files, "127.0.0.1")) {
      var connection = (java.net.HttpURLConnection) java.net.URI.create(server.url("/hello.txt")).toURL().openConnection();
      try (InputStream in = connection.getInputStream()) {
        assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(HELLO);
      }
      long self = ProcessHandle.current().pid();
      // the server saw this JVM's request, so the JVM's own side would have been seen too
      Await.until("the server side", () -> recorder.connections(server.pid()).stream()
          .anyMatch(c -> recorder.streamLength(c.connectionId(), Direction.EGRESS) > 0));
      assertThat(recorder.snapshot()).noneMatch(e -> e.pid() == self);
    }
  }
}
