package dev.spanwire.exporter.otel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.sdk.common.export.Compressor;
import io.opentelemetry.sdk.common.export.GrpcResponse;
import io.opentelemetry.sdk.common.export.GrpcSenderConfig;
import io.opentelemetry.sdk.common.export.GrpcStatusCode;
import io.opentelemetry.sdk.common.export.MessageWriter;
import io.opentelemetry.sdk.common.export.RetryPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.zip.GZIPOutputStream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The OTLP/gRPC sender's HTTP/2 against grpc-java's Netty server (what the exporter talks to in
 * the delivery tests, here with its windows made small) and against raw sockets that misbehave:
 * the request must arrive byte for byte whatever the windows, a connection the endpoint dropped
 * between calls must not cost a call, and an endpoint that stops reading must not hold the caller
 * past its timeout.
 */
class GrpcOverHttp2Test {
  private static final String METHOD = "opentelemetry.proto.collector.trace.v1.TraceService/Export";
  private final List<ExportTraceServiceRequest> received = new CopyOnWriteArrayList<>();
  private final List<String> userAgents = new CopyOnWriteArrayList<>();
  private final List<String> authorities = new CopyOnWriteArrayList<>();
  private final java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
  /** Run by the server before it answers a request (on its own thread, one per call). */
  private volatile java.util.function.Consumer<ExportTraceServiceRequest> beforeAnswer = request -> { };
  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS; 0 for grpc-java's default (no limit). */
  private int maxCallsPerConnection;
  private Server server;
  private GrpcOverHttp2 sender;

  @AfterEach
  void stop() {
    if (sender != null) {
      sender.shutdown();
    }
    if (server != null) {
      server.shutdownNow();
    }
  }

  @Test
  void aRequestManyTimesTheEndpointsWindowsArrivesWholeAsTheyOpen() throws Exception {
    // grpc-java's smallest windows: 16 KiB for the connection and each stream, so a 1.5 MB
    // request is sent in about a hundred window's worths, each waiting for the server's update
    int port = startServer(16 * 1024, 0);
    sender = new GrpcOverHttp2(config(port, null, Duration.ofSeconds(10)));
    ExportTraceServiceRequest request = request(3_000, 400);
    assertTrue(request.getSerializedSize() > 1_000_000, "size " + request.getSerializedSize());

    GrpcResponse answer = send(request);

    assertEquals(GrpcStatusCode.OK, answer.getStatusCode());
    assertEquals(1, received.size());
    assertEquals(request, received.get(0));
    assertEquals("spanwire-test/1.0", userAgents.get(0).split(" ")[0]);
  }

  @Test
  void callAfterCallWakesTheDeadlineWatchdogOnlyOnItsOwnPeriod() throws Exception {
    // a 10 s timeout: the watchdog looks at the deadlines once a second; calls that follow each
    // other (each armed while none is, as a busy exporter's are) must not wake it each time
    int port = startServer(0, 0);
    sender = new GrpcOverHttp2(config(port, gzip(), Duration.ofSeconds(10)));
    long start = System.nanoTime();
    int calls = 200;
    for (int i = 0; i < calls; i++) {
      assertEquals(GrpcStatusCode.OK, send(request(10, 20)).getStatusCode());
    }
    long seconds = java.util.concurrent.TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
    assertEquals(calls, received.size());
    // its first look, one a second since, and one that may be under way
    assertThat(sender.watchdogPasses()).isBetween(1L, seconds + 2);
  }

  @Test
  void gzipMessagesArriveAsTheyWereAndTheConnectionCarriesCallAfterCall() throws Exception {
    int port = startServer(0, 0);
    sender = new GrpcOverHttp2(config(port, gzip(), Duration.ofSeconds(10)));
    for (int i = 0; i < 5; i++) {
      ExportTraceServiceRequest request = request(500 + i, 100);
      assertEquals(GrpcStatusCode.OK, send(request).getStatusCode());
      assertEquals(request, received.get(i));
    }
    assertEquals(5, received.size());
  }

  @Test
  @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void callsFromSeveralThreadsAreInFlightTogetherOnOneConnection() throws Exception {
    // the server holds every answer until three requests are in: only calls in flight together
    // get answers at all (one at a time, the first would wait alone and be refused)
    java.util.concurrent.CountDownLatch allIn = new java.util.concurrent.CountDownLatch(3);
    beforeAnswer = request -> {
      allIn.countDown();
      try {
        if (!allIn.await(10, java.util.concurrent.TimeUnit.SECONDS)) {
          throw io.grpc.Status.FAILED_PRECONDITION.withDescription("alone").asRuntimeException();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
    int port = startServer(16 * 1024, 0); // small windows: the requests' DATA interleave
    sender = new GrpcOverHttp2(config(port, gzip(), Duration.ofSeconds(20)));
    List<ExportTraceServiceRequest> sent = List.of(request(300, 200), request(301, 200), request(302, 200));

    List<GrpcResponse> answers = sendTogether(sent);

    for (GrpcResponse answer : answers) {
      assertEquals(GrpcStatusCode.OK, answer.getStatusCode(), answer.getStatusDescription());
    }
    assertEquals(java.util.Set.copyOf(sent), java.util.Set.copyOf(received));
    assertEquals(3, received.size());
    assertEquals(1, connections.get());
  }

  @Test
  @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void anEndpointsLimitOfOneStreamMakesCallsTakeTurnsOnItsConnection() throws Exception {
    // grpc-java refuses a stream over its SETTINGS_MAX_CONCURRENT_STREAMS (REFUSED_STREAM)
    maxCallsPerConnection = 1;
    java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger most = new java.util.concurrent.atomic.AtomicInteger();
    beforeAnswer = request -> {
      most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      try {
        Thread.sleep(50); // long enough for the other callers to be waiting
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      inFlight.decrementAndGet();
    };
    int port = startServer(0, 0);
    sender = new GrpcOverHttp2(config(port, gzip(), Duration.ofSeconds(20)));
    // the limit comes in the server's first SETTINGS: a first call has read them
    assertEquals(GrpcStatusCode.OK, send(request(1, 10)).getStatusCode());
    List<ExportTraceServiceRequest> sent = List.of(request(10, 50), request(11, 50), request(12, 50), request(13, 50));

    List<GrpcResponse> answers = sendTogether(sent);

    for (GrpcResponse answer : answers) {
      assertEquals(GrpcStatusCode.OK, answer.getStatusCode(), answer.getStatusDescription());
    }
    assertEquals(5, received.size());
    assertTrue(received.containsAll(sent));
    assertEquals(1, most.get());
    assertEquals(1, connections.get());
  }

  @Test
  @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void aCallPastItsDeadlineCutsItsConnectionAndTheCallsOnItAndTheNextCallGoesOnANewOne() throws Exception {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    beforeAnswer = request -> {
      try {
        release.await(30, java.util.concurrent.TimeUnit.SECONDS); // an endpoint that hangs
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
    int port = startServer(0, 0);
    sender = new GrpcOverHttp2(config(port, gzip(), Duration.ofMillis(1500)));
    List<AtomicReference<Throwable>> errors = new java.util.ArrayList<>();
    List<Thread> callers = new java.util.ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < 3; i++) {
      AtomicReference<Throwable> error = new AtomicReference<>();
      errors.add(error);
      byte[] message = request(20 + i, 10).toByteArray();
      callers.add(Thread.ofPlatform().start(() -> sender.send(writer(message), r -> { }, error::set)));
    }
    for (Thread caller : callers) {
      caller.join();
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    release.countDown();

    for (AtomicReference<Throwable> error : errors) {
      assertInstanceOf(SocketTimeoutException.class, error.get(), String.valueOf(error.get()));
      assertEquals("no answer within 1500 ms", error.get().getMessage());
    }
    assertTrue(millis >= 1500 && millis < 1500 + 3_000, millis + " ms");
    beforeAnswer = request -> { };
    assertEquals(GrpcStatusCode.OK, send(request(30, 10)).getStatusCode());
    assertEquals(2, connections.get());
  }

  @Test
  void aConnectionTheEndpointDroppedBetweenCallsCostsNoCall() throws Exception {
    int port = startServer(0, 0);
    sender = new GrpcOverHttp2(config(port, gzip(), Duration.ofSeconds(10)));
    assertEquals(GrpcStatusCode.OK, send(request(10, 10)).getStatusCode());
    server.shutdownNow().awaitTermination();
    startServer(0, port); // the endpoint restarted: the sender's connection is gone

    GrpcResponse answer = send(request(20, 10));

    assertEquals(GrpcStatusCode.OK, answer.getStatusCode());
    assertEquals(2, received.size());
    assertEquals(20, received.get(1).getResourceSpans(0).getScopeSpans(0).getSpansCount());
  }

  @Test
  void anIpv6LiteralEndpointIsReachedAndNamedInBrackets() throws Exception {
    assumeIpv6Loopback();
    int port = startServer("::1", 0, 0, 64 << 20);
    sender = new GrpcOverHttp2(config(URI.create("http://[::1]:" + port), gzip(), Duration.ofSeconds(10), null));

    ExportTraceServiceRequest request = request(7, 20);
    assertEquals(GrpcStatusCode.OK, send(request).getStatusCode());
    assertEquals(request, received.get(0));
    assertEquals(List.of("[::1]:" + port), authorities);
  }

  @Test
  @org.junit.jupiter.api.Timeout(value = 30, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void anEndpointThatStopsReadingIsCutAtTheTimeout() throws Exception {
    // a peer that opens every window wide, then reads nothing: the request's writes fill both
    // sockets' buffers and block, and only closing the socket can end them
    try (ServerSocket listener = new ServerSocket()) {
      listener.bind(new InetSocketAddress("127.0.0.1", 0));
      AtomicReference<Socket> accepted = new AtomicReference<>();
      Thread acceptor = Thread.ofPlatform().daemon().start(() -> {
        try {
          Socket s = listener.accept();
          accepted.set(s);
          OutputStream out = s.getOutputStream();
          // SETTINGS: INITIAL_WINDOW_SIZE 2^31-1; WINDOW_UPDATE on the connection to 2^31-1
          out.write(new byte[] {0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 4, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});
          int increment = Integer.MAX_VALUE - 65_535;
          out.write(new byte[] {0, 0, 4, 8, 0, 0, 0, 0, 0,
              (byte) (increment >>> 24), (byte) (increment >>> 16), (byte) (increment >>> 8), (byte) increment});
          out.flush();
        } catch (IOException e) {
          // the test fails on the sender's side
        }
      });
      sender = new GrpcOverHttp2(config(listener.getLocalPort(), null, Duration.ofMillis(1500)));
      byte[] message = new byte[32 << 20]; // far more than loopback's socket buffers
      AtomicReference<Throwable> error = new AtomicReference<>();
      AtomicReference<GrpcResponse> answer = new AtomicReference<>();
      long start = System.nanoTime();
      sender.send(writer(message), answer::set, error::set);
      long millis = (System.nanoTime() - start) / 1_000_000;

      assertNull(answer.get());
      assertInstanceOf(SocketTimeoutException.class, error.get(), String.valueOf(error.get()));
      assertEquals("no answer within 1500 ms", error.get().getMessage());
      assertTrue(millis >= 1500 && millis < 1500 + 3_000, millis + " ms");
      acceptor.join(5_000);
      assertNotNull(accepted.get());
      accepted.get().close();
    }
  }

  @Test
  void anEndpointThatAnswersBeforeTheRequestIsSentEndsTheCallWithItsAnswer() throws Exception {
    // grpc-java refuses a message over its limit as soon as the length prefix says so, while
    // the rest is still coming; the sender stops sending and reports the refusal
    int port = startServer(16 * 1024, 0, 100_000);
    sender = new GrpcOverHttp2(config(port, null, Duration.ofSeconds(10)));

    GrpcResponse answer = send(request(3_000, 400));

    assertEquals(GrpcStatusCode.RESOURCE_EXHAUSTED, answer.getStatusCode());
    assertTrue(answer.getStatusDescription().contains("100000"), answer.getStatusDescription());
    assertEquals(0, received.size());
    // and the connection goes on
    ExportTraceServiceRequest small = request(10, 10);
    assertEquals(GrpcStatusCode.OK, send(small).getStatusCode());
    assertEquals(small, received.get(0));
  }

  @Test
  @org.junit.jupiter.api.Timeout(value = 30, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void paddedFramesContinuedHeadersAndAPingOnTheWayAreReadAsTheRfcHasThem() throws Exception {
    // a raw endpoint: it answers the request only after the sender has acknowledged its PING, with
    // a padded HEADERS continued by CONTINUATION, a padded DATA and trailers (RFC 9113 6.1, 6.2,
    // 6.7, 6.10), as servers other than grpc-java may
    try (ServerSocket listener = new ServerSocket()) {
      listener.bind(new InetSocketAddress("127.0.0.1", 0));
      AtomicReference<Throwable> serverError = new AtomicReference<>();
      AtomicReference<byte[]> pingAck = new AtomicReference<>();
      Thread endpoint = Thread.ofPlatform().daemon().start(() -> {
        try (Socket s = listener.accept()) {
          java.io.DataInputStream in = started(s);
          OutputStream out = s.getOutputStream();
          while (true) { // the request, to its last DATA
            byte[][] f = readFrame(in);
            if (f[0][3] == 0 && (f[0][4] & 1) != 0) {
              break;
            }
          }
          byte[] opaque = {1, 2, 3, 4, 5, 6, 7, 8};
          frame(out, 6, 0, 0, opaque); // PING
          while (pingAck.get() == null) {
            byte[][] f = readFrame(in);
            if (f[0][3] == 6 && (f[0][4] & 1) != 0) {
              pingAck.set(f[1]);
            }
          }
          byte[] status = {(byte) 0x88}; // :status 200 (static 8)
          byte[] type = literal("content-type", "application/grpc");
          frame(out, 1, 0x8, 1, padded(status, 3)); // HEADERS, PADDED, no END_HEADERS
          frame(out, 9, 0x4, 1, type); // CONTINUATION, END_HEADERS
          frame(out, 0, 0x8, 1, padded(new byte[] {0, 0, 0, 0, 0}, 10)); // DATA, PADDED: an empty message
          byte[] trailers = literal("grpc-status", "0");
          frame(out, 1, 0x1 | 0x4 | 0x8, 1, padded(trailers, 2)); // trailers, PADDED, END_STREAM
          out.flush();
          in.read(); // until the sender goes
        } catch (IOException e) {
          serverError.set(e);
        }
      });
      sender = new GrpcOverHttp2(config(listener.getLocalPort(), null, Duration.ofSeconds(10)));

      GrpcResponse answer = send(request(3, 10));

      assertEquals(GrpcStatusCode.OK, answer.getStatusCode());
      assertEquals(0, answer.getResponseMessage().length);
      org.junit.jupiter.api.Assertions.assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, pingAck.get());
      sender.shutdown();
      endpoint.join(10_000);
      assertNull(serverError.get());
    }
  }

  @Test
  @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void aGoawayWithTwoCallsInFlightAnswersTheOneItProcessedAndTheOtherGoesOnANewConnection() throws Exception {
    // a raw endpoint: on its first connection it takes both requests, says GOAWAY with the first
    // stream as the last it processed, and answers that one; the second connection answers all
    try (ServerSocket listener = new ServerSocket()) {
      listener.bind(new InetSocketAddress("127.0.0.1", 0));
      AtomicReference<Throwable> serverError = new AtomicReference<>();
      List<Integer> streamsPerConnection = new CopyOnWriteArrayList<>();
      Thread endpoint = Thread.ofPlatform().daemon().start(() -> {
        try (Socket first = listener.accept()) {
          java.io.DataInputStream in = started(first);
          OutputStream out = first.getOutputStream();
          List<Integer> ended = requestsEnded(in, 2);
          streamsPerConnection.add(ended.size());
          int processed = Math.min(ended.get(0), ended.get(1));
          frame(out, 7, 0, 0, new byte[] {0, 0, 0, (byte) processed, 0, 0, 0, 0}); // GOAWAY, NO_ERROR
          answer(out, processed);
          out.flush();
          try (Socket second = listener.accept()) {
            java.io.DataInputStream in2 = started(second);
            OutputStream out2 = second.getOutputStream();
            List<Integer> again = requestsEnded(in2, 1);
            streamsPerConnection.add(again.size());
            answer(out2, again.get(0));
            out2.flush();
            in2.read(); // until the sender goes
          }
        } catch (IOException e) {
          serverError.set(e);
        }
      });
      sender = new GrpcOverHttp2(config(listener.getLocalPort(), null, Duration.ofSeconds(10)));

      List<GrpcResponse> answers = sendTogether(List.of(request(3, 10), request(4, 10)));

      for (GrpcResponse answer : answers) {
        assertEquals(GrpcStatusCode.OK, answer.getStatusCode(), answer.getStatusDescription());
      }
      assertEquals(List.of(2, 1), streamsPerConnection);
      sender.shutdown();
      endpoint.join(10_000);
      assertNull(serverError.get());
    }
  }

  @Test
  @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void aStreamTheEndpointRefusedIsSentOnceMoreEvenOnAConnectionOfItsOwn() throws Exception {
    // REFUSED_STREAM says the request was not processed (RFC 9113 8.7): the call's own first
    // stream is refused, the same call's second answered, on the one connection
    try (ServerSocket listener = new ServerSocket()) {
      listener.bind(new InetSocketAddress("127.0.0.1", 0));
      AtomicReference<Throwable> serverError = new AtomicReference<>();
      List<Integer> streams = new CopyOnWriteArrayList<>();
      Thread endpoint = Thread.ofPlatform().daemon().start(() -> {
        try (Socket s = listener.accept()) {
          java.io.DataInputStream in = started(s);
          OutputStream out = s.getOutputStream();
          int refused = requestsEnded(in, 1).get(0);
          streams.add(refused);
          frame(out, 3, 0, refused, new byte[] {0, 0, 0, 7}); // RST_STREAM REFUSED_STREAM
          out.flush();
          int again = requestsEnded(in, 1).get(0);
          streams.add(again);
          answer(out, again);
          out.flush();
          in.read(); // until the sender goes
        } catch (IOException e) {
          serverError.set(e);
        }
      });
      sender = new GrpcOverHttp2(config(listener.getLocalPort(), null, Duration.ofSeconds(10)));

      GrpcResponse answer = send(request(5, 10));

      assertEquals(GrpcStatusCode.OK, answer.getStatusCode());
      assertEquals(List.of(1, 3), streams);
      sender.shutdown();
      endpoint.join(10_000);
      assertNull(serverError.get());
    }
  }

  /** Reads frames until {@code n} requests have ended (DATA with END_STREAM); their streams, in that order. */
  /** A raw endpoint's side of a connection's start: the client's preface read, our SETTINGS sent. */
  private static java.io.DataInputStream started(Socket s) throws IOException {
    java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
    in.readFully(new byte[24]);
    frame(s.getOutputStream(), 4, 0, 0, new byte[0]);
    s.getOutputStream().flush();
    return in;
  }

  private static List<Integer> requestsEnded(java.io.DataInputStream in, int n) throws IOException {
    List<Integer> ended = new java.util.ArrayList<>();
    while (ended.size() < n) {
      byte[][] f = readFrame(in);
      if (f[0][3] == 0 && (f[0][4] & 1) != 0) {
        ended.add((f[0][5] & 0x7f) << 24 | (f[0][6] & 0xff) << 16 | (f[0][7] & 0xff) << 8 | f[0][8] & 0xff);
      }
    }
    return ended;
  }

  /** An OK answer on {@code stream}: :status 200, an empty message, grpc-status 0. */
  private static void answer(OutputStream out, int stream) throws IOException {
    java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
    head.write(0x88); // :status 200 (static 8)
    head.writeBytes(literal("content-type", "application/grpc"));
    frame(out, 1, 0x4, stream, head.toByteArray());
    frame(out, 0, 0, stream, new byte[] {0, 0, 0, 0, 0});
    frame(out, 1, 0x1 | 0x4, stream, literal("grpc-status", "0"));
  }

  @Test
  @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void aTlsEndpointThatDoesNotAgreeToHttp2ByAlpnIsAClearError(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    alpnRefused("127.0.0.1", dir);
  }

  @Test
  @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
  void anIpv6LiteralTlsEndpointIsVerifiedByItsAddress(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    // host name verification against the certificate's IPv6 address passes: the handshake gets as
    // far as ALPN
    assumeIpv6Loopback();
    alpnRefused("::1", dir);
  }

  private void alpnRefused(String address, java.nio.file.Path dir) throws Exception {
    // the JDK's TLS server offers no application protocol: the handshake succeeds, ALPN gives none
    java.nio.file.Path store = dir.resolve("endpoint.p12");
    Process keytool = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", "secret", "-alias", "endpoint",
        "-keyalg", "EC", "-dname", "CN=spanwire test", "-ext", "SAN=ip:" + address, "-validity", "2")
        .redirectErrorStream(true).start();
    String keytoolSaid = new String(keytool.getInputStream().readAllBytes());
    assertEquals(0, keytool.waitFor(), keytoolSaid);
    java.security.KeyStore keys = java.security.KeyStore.getInstance("PKCS12");
    try (InputStream in = java.nio.file.Files.newInputStream(store)) {
      keys.load(in, "secret".toCharArray());
    }
    javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance("PKIX");
    kmf.init(keys, "secret".toCharArray());
    SSLContext server = SSLContext.getInstance("TLS");
    server.init(kmf.getKeyManagers(), null, null);
    javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
    tmf.init(keys);
    SSLContext client = SSLContext.getInstance("TLS");
    client.init(null, tmf.getTrustManagers(), null);
    try (javax.net.ssl.SSLServerSocket listener = (javax.net.ssl.SSLServerSocket) server.getServerSocketFactory()
        .createServerSocket(0, 1, java.net.InetAddress.getByName(address))) {
      Thread.ofPlatform().daemon().start(() -> {
        try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) listener.accept()) {
          s.startHandshake();
          s.getInputStream().read();
        } catch (IOException e) {
          // the sender closes it
        }
      });
      String authority = (address.contains(":") ? "[" + address + "]" : address) + ":" + listener.getLocalPort();
      sender = new GrpcOverHttp2(config(URI.create("https://" + authority), null, Duration.ofSeconds(10), client));
      AtomicReference<Throwable> error = new AtomicReference<>();
      AtomicReference<GrpcResponse> answer = new AtomicReference<>();
      sender.send(writer(request(1, 1).toByteArray()), answer::set, error::set);

      assertNull(answer.get());
      assertNotNull(error.get());
      assertEquals("the endpoint " + authority
          + " did not agree to HTTP/2 over TLS (ALPN gave \"\"); OTLP/gRPC needs it", error.get().getMessage());
    }
  }

  private static void assumeIpv6Loopback() {
    try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getByName("::1"))) {
      // this host has IPv6 loopback
    } catch (IOException e) {
      org.junit.jupiter.api.Assumptions.abort("no IPv6 loopback here: " + e.getMessage());
    }
  }

  private static void frame(OutputStream out, int type, int flags, int stream, byte[] payload) throws IOException {
    out.write(new byte[] {(byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length,
        (byte) type, (byte) flags, (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8), (byte) stream});
    out.write(payload);
  }

  /** {header, payload} of the next frame. */
  private static byte[][] readFrame(java.io.DataInputStream in) throws IOException {
    byte[] header = new byte[9];
    in.readFully(header);
    byte[] payload = new byte[(header[0] & 0xff) << 16 | (header[1] & 0xff) << 8 | header[2] & 0xff];
    in.readFully(payload);
    return new byte[][] {header, payload};
  }

  /** Pad length, content, that many zero octets. */
  private static byte[] padded(byte[] content, int pad) {
    byte[] out = new byte[1 + content.length + pad];
    out[0] = (byte) pad;
    System.arraycopy(content, 0, out, 1, content.length);
    return out;
  }

  /** An HPACK literal without indexing, new name, no Huffman (RFC 7541 6.2.2); short strings only. */
  private static byte[] literal(String name, String value) {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    b.write(0);
    b.write(name.length());
    b.writeBytes(name.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    b.write(value.length());
    b.writeBytes(value.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    return b.toByteArray();
  }

  private GrpcResponse send(ExportTraceServiceRequest request) {
    AtomicReference<GrpcResponse> answer = new AtomicReference<>();
    AtomicReference<Throwable> error = new AtomicReference<>();
    sender.send(writer(request.toByteArray()), answer::set, error::set);
    if (error.get() != null) {
      throw new AssertionError("the call failed", error.get());
    }
    assertNotNull(answer.get(), "the sender answers on the caller's thread before send returns");
    return answer.get();
  }

  /** Sends each request on a thread of its own, all started together; the answers in order. */
  private List<GrpcResponse> sendTogether(List<ExportTraceServiceRequest> requests) throws InterruptedException {
    List<AtomicReference<GrpcResponse>> answers = new java.util.ArrayList<>();
    List<AtomicReference<Throwable>> errors = new java.util.ArrayList<>();
    List<Thread> callers = new java.util.ArrayList<>();
    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
    for (ExportTraceServiceRequest request : requests) {
      AtomicReference<GrpcResponse> answer = new AtomicReference<>();
      AtomicReference<Throwable> error = new AtomicReference<>();
      answers.add(answer);
      errors.add(error);
      byte[] message = request.toByteArray();
      callers.add(Thread.ofPlatform().start(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        sender.send(writer(message), answer::set, error::set);
      }));
    }
    go.countDown();
    for (Thread caller : callers) {
      caller.join();
    }
    List<GrpcResponse> out = new java.util.ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      if (errors.get(i).get() != null) {
        throw new AssertionError("call " + i + " failed", errors.get(i).get());
      }
      assertNotNull(answers.get(i).get());
      out.add(answers.get(i).get());
    }
    return out;
  }

  private int startServer(int window, int port) throws IOException {
    return startServer(window, port, 64 << 20);
  }

  private int startServer(int window, int port, int maxMessage) throws IOException {
    return startServer("127.0.0.1", window, port, maxMessage);
  }

  private int startServer(String address, int window, int port, int maxMessage) throws IOException {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(address, port))
        .maxInboundMessageSize(maxMessage);
    if (window > 0) {
      builder.flowControlWindow(window);
    }
    if (maxCallsPerConnection > 0) {
      builder.maxConcurrentCallsPerConnection(maxCallsPerConnection);
    }
    builder.addTransportFilter(new io.grpc.ServerTransportFilter() {
      @Override
      public io.grpc.Attributes transportReady(io.grpc.Attributes attributes) {
        connections.incrementAndGet();
        return attributes;
      }
    });
    io.grpc.ServerInterceptor agent = new io.grpc.ServerInterceptor() {
      @Override
      public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(
          io.grpc.ServerCall<Q, R> call, io.grpc.Metadata metadata, io.grpc.ServerCallHandler<Q, R> next) {
        userAgents.add(metadata.get(io.grpc.Metadata.Key.of("user-agent", io.grpc.Metadata.ASCII_STRING_MARSHALLER)));
        authorities.add(call.getAuthority());
        return next.startCall(call, metadata);
      }
    };
    server = builder.addService(io.grpc.ServerInterceptors.intercept(new TraceServiceGrpc.TraceServiceImplBase() {
      @Override
      public void export(ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> response) {
        received.add(request);
        beforeAnswer.accept(request);
        response.onNext(ExportTraceServiceResponse.getDefaultInstance());
        response.onCompleted();
      }
    }, agent)).build().start();
    return server.getPort();
  }

  /** {@code spans} spans of {@code attributeBytes} of attribute value each, all different. */
  private static ExportTraceServiceRequest request(int spans, int attributeBytes) {
    ScopeSpans.Builder scope = ScopeSpans.newBuilder();
    for (int i = 0; i < spans; i++) {
      StringBuilder value = new StringBuilder();
      while (value.length() < attributeBytes) {
        value.append(Integer.toHexString(i * 7919 + value.length()));
      }
      scope.addSpans(Span.newBuilder()
          .setName("GET /items/" + i)
          .setTraceId(com.google.protobuf.ByteString.copyFrom(new byte[16]))
          .setSpanId(com.google.protobuf.ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5, 6, 7, (byte) i}))
          .setStartTimeUnixNano(1_000_000_000L * i)
          .setEndTimeUnixNano(1_000_000_000L * i + 12_345)
          .addAttributes(KeyValue.newBuilder().setKey("http_target")
              .setValue(AnyValue.newBuilder().setStringValue(value.toString()))));
    }
    return ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(scope)).build();
  }

  private static MessageWriter writer(byte[] message) {
    return new MessageWriter() {
      @Override
      public void writeMessage(OutputStream out) throws IOException {
        out.write(message);
      }

      @Override
      public int getContentLength() {
        return message.length;
      }
    };
  }

  private static Compressor gzip() {
    return new Compressor() {
      @Override
      public String getEncoding() {
        return "gzip";
      }

      @Override
      public OutputStream compress(OutputStream out) throws IOException {
        return new GZIPOutputStream(out);
      }
    };
  }

  private static GrpcSenderConfig config(int port, Compressor compressor, Duration timeout) {
    return config(URI.create("http://127.0.0.1:" + port), compressor, timeout, null);
  }

  private static GrpcSenderConfig config(URI endpoint, Compressor compressor, Duration timeout, SSLContext tls) {
    return new GrpcSenderConfig() {
      @Override
      public URI getEndpoint() {
        return endpoint;
      }

      @Override
      public String getFullMethodName() {
        return METHOD;
      }

      @Override
      public Compressor getCompressor() {
        return compressor;
      }

      @Override
      public Duration getTimeout() {
        return timeout;
      }

      @Override
      public Duration getConnectTimeout() {
        return Duration.ofSeconds(5);
      }

      @Override
      public Supplier<Map<String, List<String>>> getHeadersSupplier() {
        return () -> Map.of("User-Agent", List.of("spanwire-test/1.0"));
      }

      @Override
      public RetryPolicy getRetryPolicy() {
        return null;
      }

      @Override
      public SSLContext getSslContext() {
        return tls;
      }

      @Override
      public X509TrustManager getTrustManager() {
        return null;
      }

      @Override
      public ExecutorService getExecutorService() {
        return null;
      }
    };
  }
}
