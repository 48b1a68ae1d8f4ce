package dev.spanwire.exporter.otel;

import dev.spanwire.exporter.protocol.http2.HpackDecoder;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.Compressor;
import io.opentelemetry.sdk.common.export.GrpcResponse;
import io.opentelemetry.sdk.common.export.GrpcSender;
import io.opentelemetry.sdk.common.export.GrpcSenderConfig;
import io.opentelemetry.sdk.common.export.GrpcStatusCode;
import io.opentelemetry.sdk.common.export.MessageWriter;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * OTLP/gRPC on one HTTP/2 connection of its own, each unary call on its caller's thread, several
 * calls in flight at once as streams of that connection.
 *
 * <p>An exporter sends a few requests at a time to one endpoint. A general client pays for what
 * that does not need: OkHttp handed each call to a dispatcher thread, read the answer on a reader
 * thread, scheduled its connection pool's cleanup and a timeout on a watchdog thread — five thread
 * hand-offs a request, on an agent that must leave the host's cores to the host. Here the calling
 * thread compresses the message into buffers of its call ({@link GrpcMessage}), writes the
 * request's frames and waits for the answer; whichever waiting caller finds no other reading reads the
 * connection for all of them — HEADERS, DATA and trailers of every stream, and what the connection
 * itself sends (SETTINGS, PING, WINDOW_UPDATE, GOAWAY) — so a second call in flight costs no
 * thread. Flow control is honoured both ways, and the endpoint's limit on concurrent streams; an
 * answer that arrives before its request is sent whole ends the call (RFC 9113 section 8.1).
 * Header blocks are read with the same HPACK decoder as captured traffic; ours are literals that
 * never touch either dynamic table.
 *
 * <p>TLS ({@code https} endpoints) is the JDK's, with the settings' SSLContext (trusted
 * certificates, client certificate), the host name verified and {@code h2} agreed by ALPN. A call
 * that has not finished by the timeout cuts the connection: reads and waits last at most until
 * then, and a watchdog closes the socket under a write that cannot go on (an endpoint that stopped
 * reading); the calls in flight on it fail with it. A connection the endpoint closed or sent
 * GOAWAY on is left to the calls it still carries; the next call opens a new one. It does not
 * retry, beyond one call that found a kept connection gone: the span batcher retries whole
 * batches itself.
 */
final class GrpcOverHttp2 implements GrpcSender {
  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int DATA = 0;
  private static final int HEADERS = 1;
  private static final int PRIORITY = 2;
  private static final int RST_STREAM = 3;
  private static final int SETTINGS = 4;
  private static final int PUSH_PROMISE = 5;
  private static final int PING = 6;
  private static final int GOAWAY = 7;
  private static final int WINDOW_UPDATE = 8;
  private static final int CONTINUATION = 9;
  private static final int END_STREAM = 0x1;
  private static final int ACK = 0x1;
  private static final int END_HEADERS = 0x4;
  private static final int PADDED = 0x8;
  private static final int PRIORITY_FLAG = 0x20;
  private static final int CANCEL = 0x8;
  private static final int PROTOCOL_ERROR = 0x1;
  private static final int REFUSED_STREAM = 0x7;
  /** RFC 9113's defaults: what a peer may assume before our SETTINGS, and what we assume of it. */
  private static final int DEFAULT_WINDOW = 65_535;
  private static final int DEFAULT_FRAME_SIZE = 16_384;
  private static final int MAX_FRAME_SIZE = (1 << 24) - 1;
  private static final long MAX_WINDOW = Integer.MAX_VALUE;
  /** The longest header block (a frame and its continuations) read from the endpoint. */
  private static final int MAX_HEADER_BLOCK = 1 << 16;
  /** An export's answer is a few bytes; an endpoint's longer reply is kept only this far. */
  static final int MAX_REPLY_BYTES = 1 << 20;

  private final String host;
  private final int port;
  private final boolean tls;
  private final String authority;
  private final String path;
  private final Duration timeout;
  private final Duration connectTimeout;
  private final SSLContext sslContext;
  private final List<String> tlsProtocols;
  private final Compressor compressor;
  private final Supplier<Map<String, List<String>>> headers;
  private final Watchdog watchdog;
  /** Request buffers of calls that ended, for the next ones (one set per call in flight). */
  private final java.util.ArrayDeque<GrpcMessage> spare = new java.util.ArrayDeque<>();
  /** The connection new calls go on; guarded by this. */
  private Connection connection;
  /** Connections given up on (closed or GOAWAY) that still carry calls; guarded by this. */
  private final List<Connection> retired = new java.util.ArrayList<>();
  private volatile boolean shutdown;

  GrpcOverHttp2(GrpcSenderConfig config) {
    URI endpoint = config.getEndpoint();
    this.tls = "https".equalsIgnoreCase(endpoint.getScheme());
    String uriHost = endpoint.getHost(); // an IPv6 literal comes in brackets
    this.host = uriHost.startsWith("[") && uriHost.endsWith("]") ? uriHost.substring(1, uriHost.length() - 1) : uriHost;
    this.port = endpoint.getPort() >= 0 ? endpoint.getPort() : tls ? 443 : 80;
    String rawHost = host.contains(":") ? "[" + host + "]" : host;
    this.authority = endpoint.getPort() >= 0 ? rawHost + ":" + endpoint.getPort() : rawHost;
    String base = endpoint.getRawPath() == null ? "" : endpoint.getRawPath();
    this.path = (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + "/" + config.getFullMethodName();
    this.timeout = config.getTimeout();
    this.connectTimeout = config.getConnectTimeout();
    this.sslContext = config.getSslContext();
    this.tlsProtocols = config.getEnabledProtocols();
    this.compressor = config.getCompressor();
    this.headers = config.getHeadersSupplier();
    this.watchdog = new Watchdog(timeout);
  }

  @Override
  public void send(MessageWriter writer, Consumer<GrpcResponse> onResponse, Consumer<Throwable> onError) {
    GrpcResponse reply;
    GrpcMessage message = takeMessage();
    try {
      if (shutdown) {
        throw new IOException("the sender was shut down");
      }
      message.frame(writer);
      reply = call(message);
    } catch (IOException | RuntimeException e) {
      onError.accept(e);
      return;
    } finally {
      giveBack(message);
    }
    onResponse.accept(reply);
  }

  @Override
  public CompletableResultCode shutdown() {
    shutdown = true;
    watchdog.stop();
    List<Connection> open = new java.util.ArrayList<>();
    synchronized (this) {
      if (connection != null) {
        open.add(connection);
        connection = null;
      }
      open.addAll(retired);
      retired.clear();
      spare.clear();
    }
    for (Connection c : open) {
      // a polite end when nothing is under way; calls in flight fail at once on the closed socket
      c.goAwayIfIdle();
      c.close();
    }
    return CompletableResultCode.ofSuccess();
  }

  private synchronized GrpcMessage takeMessage() {
    GrpcMessage m = spare.poll();
    return m != null ? m : new GrpcMessage(compressor);
  }

  private synchronized void giveBack(GrpcMessage message) {
    message.trim();
    if (!shutdown) {
      spare.push(message);
    }
  }

  /** Times the deadline watchdog has looked at the calls' deadlines (tests). */
  long watchdogPasses() {
    return watchdog.passes();
  }

  // ---- the call ----------------------------------------------------------------------------

  private GrpcResponse call(GrpcMessage message) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    byte[] block = headerBlock();
    Call call = new Call(deadline);
    watchdog.arm(call);
    try {
      Connection c = connection(deadline, call);
      boolean reused = !call.openedConnection;
      try {
        return c.exchange(call, block, message.body, message.bodyLength);
      } catch (IOException e) {
        // a kept connection the endpoint had closed (idle, restarted), or a stream the endpoint
        // says it did not process (GOAWAY, REFUSED_STREAM): once more, on the connection new
        // calls go on now (a new one when this one is done)
        boolean unprocessed = e instanceof Unprocessed;
        if ((!reused && !unprocessed) || e instanceof SocketTimeoutException || call.headersSeen
            || System.nanoTime() - deadline >= 0) {
          throw e;
        }
        Call again = new Call(deadline);
        watchdog.disarm(call);
        call = again;
        watchdog.arm(call);
        return connection(deadline, call).exchange(call, block, message.body, message.bodyLength);
      }
    } finally {
      watchdog.disarm(call);
    }
  }

  /**
   * The connection to send on: the one in use when it still takes calls (what the endpoint sent
   * while none was reading is read first), else a new one.
   */
  private Connection connection(long deadline, Call call) throws IOException {
    Connection current;
    synchronized (this) {
      current = connection;
    }
    if (current != null) {
      current.drain(deadline);
    }
    synchronized (this) {
      if (shutdown) {
        throw new IOException("the sender was shut down");
      }
      retired.removeIf(Connection::closed);
      if (connection != null && !connection.usable()) {
        connection.retire();
        if (!connection.closed()) {
          retired.add(connection);
        }
        connection = null;
      }
      if (connection == null) {
        Connection fresh = new Connection(open(deadline));
        try {
          fresh.start();
        } catch (IOException e) {
          fresh.close();
          throw e;
        }
        connection = fresh;
        call.openedConnection = true;
      }
      return connection;
    }
  }

  private Socket open(long deadline) throws IOException {
    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      long left = Math.max(1, Math.min(connectTimeout.toMillis(), (deadline - System.nanoTime()) / 1_000_000));
      socket.connect(new InetSocketAddress(host, port), (int) Math.min(Integer.MAX_VALUE, left));
      if (!tls) {
        return socket;
      }
      SSLContext context = sslContext != null ? sslContext : SSLContext.getDefault();
      SSLSocket secure = (SSLSocket) context.getSocketFactory().createSocket(socket, host, port, true);
      SSLParameters parameters = secure.getSSLParameters();
      parameters.setApplicationProtocols(new String[] {"h2"});
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      if (tlsProtocols != null && !tlsProtocols.isEmpty()) {
        parameters.setProtocols(tlsProtocols.toArray(String[]::new));
      }
      secure.setSSLParameters(parameters);
      secure.setSoTimeout(remainingMillis(deadline));
      secure.startHandshake();
      if (!"h2".equals(secure.getApplicationProtocol())) {
        secure.close();
        throw new IOException("the endpoint " + authority + " did not agree to HTTP/2 over TLS (ALPN gave \""
            + secure.getApplicationProtocol() + "\"); OTLP/gRPC needs it");
      }
      return secure;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    } catch (java.security.NoSuchAlgorithmException e) {
      socket.close();
      throw new IOException("no default TLS context", e);
    }
  }

  /** The request's header block: literals without indexing (RFC 7541 6.2.2), no Huffman. */
  private byte[] headerBlock() {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(256);
    out.write(0x83); // :method POST (static 3)
    out.write(tls ? 0x87 : 0x86); // :scheme https / http (static 7 / 6)
    literal(out, 4, null, path); // :path, name from static 4
    literal(out, 1, null, authority); // :authority, name from static 1
    literal(out, 31, null, "application/grpc"); // content-type (static 31)
    literal(out, 0, "te", "trailers");
    if (compressor != null) {
      literal(out, 0, "grpc-encoding", compressor.getEncoding());
    }
    literal(out, 0, "grpc-accept-encoding", "gzip");
    Map<String, List<String>> extra = headers == null ? null : headers.get();
    if (extra != null) {
      extra.forEach((name, values) -> {
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.startsWith(":") || CONNECTION_HEADERS.contains(lower) || lower.equals("te")
            || lower.equals("content-type") || lower.equals("grpc-encoding") || lower.equals("grpc-accept-encoding")) {
          return;
        }
        for (String value : values) {
          literal(out, 0, lower, value);
        }
      });
    }
    return out.toByteArray();
  }

  /** HTTP/1.1's connection-specific fields, which HTTP/2 forbids (RFC 9113 8.2.2). */
  private static final java.util.Set<String> CONNECTION_HEADERS =
      java.util.Set.of("connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host");

  private static void literal(java.io.ByteArrayOutputStream out, int nameIndex, String name, String value) {
    integer(out, 0x00, 4, nameIndex);
    if (nameIndex == 0) {
      string(out, name);
    }
    string(out, value);
  }

  private static void string(java.io.ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    integer(out, 0x00, 7, b.length);
    out.write(b, 0, b.length);
  }

  /** An HPACK integer (RFC 7541 5.1) with an {@code prefix}-bit prefix after {@code first}'s bits. */
  static void integer(java.io.ByteArrayOutputStream out, int first, int prefix, long value) {
    int max = (1 << prefix) - 1;
    if (value < max) {
      out.write(first | (int) value);
      return;
    }
    out.write(first | max);
    value -= max;
    while (value >= 0x80) {
      out.write((int) (value & 0x7f) | 0x80);
      value >>>= 7;
    }
    out.write((int) value);
  }

  private static int remainingMillis(long deadline) throws SocketTimeoutException {
    long left = (deadline - System.nanoTime()) / 1_000_000;
    if (left <= 0) {
      throw new SocketTimeoutException("deadline passed");
    }
    return (int) Math.min(Integer.MAX_VALUE, left);
  }

  /** A call the endpoint did not process (RFC 9113 8.7): safe to send again. */
  private static final class Unprocessed extends IOException {
    Unprocessed(String message) {
      super(message);
    }
  }

  /** One call in flight: its stream, its send window, and the answer as it arrives. */
  private static final class Call {
    final long deadline;
    /** Set by the watchdog's thread; the connection it goes on is read there too. */
    volatile Connection connection;
    boolean openedConnection;
    int stream;
    long sendWindow;
    int unacknowledged;
    boolean answered;
    boolean headersSeen;
    /** What ended this stream alone (RST_STREAM, GOAWAY before it); the connection goes on. */
    IOException failure;
    int status = -1;
    String grpcStatus;
    String grpcMessage;
    String grpcEncoding;
    String statusDetails;
    final java.io.ByteArrayOutputStream reply = new java.io.ByteArrayOutputStream();

    Call(long deadline) {
      this.deadline = deadline;
    }

    boolean done() {
      return answered || failure != null;
    }

    void field(String name, String value, boolean trailers) {
      if (name == null) {
        return;
      }
      switch (name) {
        case ":status" -> {
          if (!trailers) {
            try {
              status = Integer.parseInt(value);
            } catch (NumberFormatException e) {
              status = 0;
            }
          }
        }
        case "grpc-status" -> grpcStatus = value;
        case "grpc-message" -> grpcMessage = value;
        case "grpc-encoding" -> grpcEncoding = value;
        case "grpc-status-details-bin" -> statusDetails = value;
        default -> { }
      }
    }

    GrpcResponse answer() throws IOException {
      byte[] bytes = reply.toByteArray();
      String code = grpcStatus;
      GrpcStatusCode grpc = code == null
          ? (status == 200 ? GrpcStatusCode.UNKNOWN : GrpcStatusCode.UNAVAILABLE)
          : statusOf(code.trim());
      String description = grpcMessage != null
          ? URLDecoder.decode(grpcMessage.replace("+", "%2B"), StandardCharsets.UTF_8)
          : code == null ? "HTTP " + status + " without grpc-status" : "";
      byte[] payload = bytes.length >= 5 ? java.util.Arrays.copyOfRange(bytes, 5, bytes.length) : new byte[0];
      if (bytes.length >= 5 && bytes[0] == 1 && "gzip".equalsIgnoreCase(grpcEncoding)) {
        try (java.util.zip.GZIPInputStream unzip = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(payload))) {
          payload = unzip.readNBytes(MAX_REPLY_BYTES);
        }
      }
      return new NoDelaySenders.GrpcReply(grpc, description, payload, ProtoReader.retryDelay(statusDetails));
    }
  }

  // ---- one connection ----------------------------------------------------------------------

  /**
   * One HTTP/2 connection: its socket, both sides' settings and windows, the calls in flight on
   * it. Its state is guarded by {@code lock}; frames are written under it. One waiting caller at
   * a time reads (the reader): it reads a frame with the lock let go, then does what the frame
   * says under it and wakes the others, whose answers or windows it may have brought.
   */
  private final class Connection {
    final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final java.util.concurrent.locks.ReentrantLock lock = new java.util.concurrent.locks.ReentrantLock();
    private final java.util.concurrent.locks.Condition changed = lock.newCondition();
    private final HpackDecoder decoder = new HpackDecoder(true);
    /** The reader's frame: touched only by the caller that is reading. */
    private final byte[] header = new byte[9];
    private byte[] payload = new byte[DEFAULT_FRAME_SIZE];
    private final Map<Integer, Call> calls = new java.util.HashMap<>();
    private boolean reading;
    private int nextStream = 1;
    private long sendWindow = DEFAULT_WINDOW;
    private int peerInitialWindow = DEFAULT_WINDOW;
    private int peerMaxFrame = DEFAULT_FRAME_SIZE;
    private long peerMaxStreams = Long.MAX_VALUE;
    /** Bytes of DATA taken and not yet given back by WINDOW_UPDATE, for the connection. */
    private int unacknowledged;
    /** The endpoint said GOAWAY: streams above this id were not and will not be processed. */
    private int lastStreamProcessed = Integer.MAX_VALUE;
    /** A header block under way: its stream (0 for none), flags, and bytes so far. */
    private int blockStream;
    private int blockFlags;
    private byte[] block = new byte[0];
    private int blockLength;
    /** What ended the connection, for every call on it; null while it works. */
    private IOException failure;
    /** Why the watchdog closed the socket (a call's deadline); set without the lock. */
    private volatile IOException cut;
    private boolean retired;

    Connection(Socket socket) throws IOException {
      this.socket = socket;
      this.in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
      this.out = new BufferedOutputStream(socket.getOutputStream(), 32 * 1024);
    }

    /** The preface and our SETTINGS: no push, the default window (answers are small). */
    void start() throws IOException {
      out.write(PREFACE);
      byte[] settings = new byte[6];
      settings[1] = 2; // SETTINGS_ENABLE_PUSH = 0
      writeFrame(SETTINGS, 0, 0, settings, 0, settings.length);
      out.flush();
    }

    /** What the endpoint sent while no call was reading (SETTINGS, PING, GOAWAY), read without waiting for more. */
    void drain(long deadline) {
      lock.lock();
      try {
        if (reading || failure != null) {
          return;
        }
        reading = true;
        try {
          while (failure == null && in.available() > 0) {
            readFrame(deadline);
          }
        } finally {
          reading = false;
          changed.signalAll();
        }
      } catch (IOException e) {
        fail(e); // not usable now: the call goes on a new connection
      } finally {
        lock.unlock();
      }
    }

    boolean usable() {
      lock.lock();
      try {
        return failure == null && cut == null && !socket.isClosed() && nextStream > 0
            && lastStreamProcessed == Integer.MAX_VALUE;
      } finally {
        lock.unlock();
      }
    }

    boolean closed() {
      return socket.isClosed();
    }

    /** No new calls: closed now when none is in flight, else when the last one ends. */
    void retire() {
      lock.lock();
      try {
        retired = true;
        if (calls.isEmpty()) {
          close();
        }
      } finally {
        lock.unlock();
      }
    }

    GrpcResponse exchange(Call call, byte[] block, byte[] message, int length) throws IOException {
      lock.lock();
      try {
        call.connection = this;
        while (calls.size() >= peerMaxStreams) {
          await(call);
        }
        if (failure != null) {
          throw failure;
        }
        if (nextStream < 0 || lastStreamProcessed != Integer.MAX_VALUE) {
          // the calls it still carries go on; this one goes on a new connection
          call.failure = new Unprocessed("the endpoint " + authority + " is closing the connection (GOAWAY)");
          throw call.failure;
        }
        call.stream = nextStream;
        nextStream += 2;
        call.sendWindow = peerInitialWindow;
        calls.put(call.stream, call);
        writeHeaders(call.stream, block);
        int sent = 0;
        while (sent < length && !call.done()) {
          long window = Math.min(sendWindow, call.sendWindow);
          if (window <= 0) {
            out.flush();
            await(call);
            continue;
          }
          int chunk = (int) Math.min(Math.min(length - sent, window), peerMaxFrame);
          writeFrame(DATA, sent + chunk == length ? END_STREAM : 0, call.stream, message, sent, chunk);
          sent += chunk;
          sendWindow -= chunk;
          call.sendWindow -= chunk;
        }
        if (sent < length && call.answered) {
          // answered before it was sent whole (RFC 9113 8.1): the rest is not wanted
          writeFrame(RST_STREAM, 0, call.stream, new byte[] {0, 0, 0, CANCEL}, 0, 4);
        }
        out.flush();
        while (!call.done()) {
          await(call);
        }
        if (call.failure != null) {
          throw call.failure;
        }
        return call.answer();
      } catch (IOException e) {
        if (e != call.failure) {
          fail(e);
          throw failure;
        }
        throw e;
      } finally {
        if (call.stream != 0) {
          calls.remove(call.stream);
          changed.signalAll();
        }
        if (retired && calls.isEmpty()) {
          close();
        }
        lock.unlock();
      }
    }

    /**
     * Waits (the lock held) until something may have changed for {@code call}: reads a frame when
     * no other caller is reading, else waits for the one that is. Past the call's deadline, a
     * timeout.
     */
    private void await(Call call) throws IOException {
      if (failure != null) {
        throw failure;
      }
      long left = call.deadline - System.nanoTime();
      if (left <= 0) {
        throw new SocketTimeoutException("no answer within " + timeout.toMillis() + " ms");
      }
      if (!reading) {
        reading = true;
        try {
          readFrame(call.deadline);
        } finally {
          reading = false;
          changed.signalAll();
        }
        return;
      }
      try {
        changed.awaitNanos(left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted waiting for the endpoint's answer");
      }
    }

    /** The connection is done: every call on it fails with the first cause, the socket closes. */
    private void fail(IOException e) {
      if (failure == null) {
        failure = cut != null ? cut : e; // the watchdog's cut is why the socket failed under a call
        close();
        changed.signalAll();
      }
    }

    /** The watchdog's cut: a call's deadline passed; the socket is closed under whatever blocks. */
    void cut(IOException why) {
      if (cut == null) {
        cut = why;
      }
      close();
    }

    private void writeHeaders(int stream, byte[] block) throws IOException {
      int first = Math.min(block.length, peerMaxFrame);
      writeFrame(HEADERS, first == block.length ? END_HEADERS : 0, stream, block, 0, first);
      for (int at = first; at < block.length; ) {
        int n = Math.min(block.length - at, peerMaxFrame);
        writeFrame(CONTINUATION, at + n == block.length ? END_HEADERS : 0, stream, block, at, n);
        at += n;
      }
    }

    private void writeFrame(int type, int flags, int streamId, byte[] b, int off, int len) throws IOException {
      out.write(len >>> 16);
      out.write(len >>> 8);
      out.write(len);
      out.write(type);
      out.write(flags);
      out.write(streamId >>> 24);
      out.write(streamId >>> 16);
      out.write(streamId >>> 8);
      out.write(streamId);
      out.write(b, off, len);
    }

    /**
     * Reads one frame with the lock let go (the caller is the reader), then does what it says
     * under the lock.
     */
    private void readFrame(long deadline) throws IOException {
      int length;
      lock.unlock();
      try {
        socket.setSoTimeout(remainingMillis(deadline));
        length = readHeader();
        readFully(payload, length);
      } catch (SocketTimeoutException e) {
        SocketTimeoutException t = new SocketTimeoutException("no answer within " + timeout.toMillis() + " ms");
        t.initCause(e);
        throw t;
      } finally {
        lock.lock();
      }
      process(length);
    }

    private void process(int length) throws IOException {
      int type = header[3] & 0xff;
      int flags = header[4] & 0xff;
      int id = streamId(header, 5);
      if (blockStream != 0 && (type != CONTINUATION || id != blockStream)) {
        throw protocolError("a header block not continued by its CONTINUATION");
      }
      switch (type) {
        case DATA -> data(id, flags, length);
        case HEADERS -> headers(id, flags, length);
        case CONTINUATION -> {
          if (blockStream == 0) {
            throw protocolError("CONTINUATION without HEADERS");
          }
          appendBlock(0, length);
          if ((flags & END_HEADERS) != 0) {
            endBlock();
          }
        }
        case RST_STREAM -> {
          if (length != 4) {
            throw protocolError("RST_STREAM of " + length + " bytes");
          }
          Call call = calls.get(id);
          if (call != null && !call.done()) {
            int code = (int) readInt(payload, 0);
            String what = "the endpoint reset the call's stream (HTTP/2 error " + code + ")";
            call.failure = code == REFUSED_STREAM ? new Unprocessed(what) : new IOException(what);
          }
        }
        case SETTINGS -> settings(id, flags, length);
        case PING -> {
          if (length != 8) {
            throw protocolError("PING of " + length + " bytes");
          }
          if ((flags & ACK) == 0) {
            writeFrame(PING, ACK, 0, payload, 0, 8);
            out.flush();
          }
        }
        case GOAWAY -> {
          if (length < 8) {
            throw protocolError("GOAWAY of " + length + " bytes");
          }
          lastStreamProcessed = streamId(payload, 0);
          for (Call call : calls.values()) {
            if (call.stream > lastStreamProcessed && !call.done()) {
              call.failure = new Unprocessed("the endpoint closed the connection before the call (GOAWAY, HTTP/2 error "
                  + (int) readInt(payload, 4) + ")");
            }
          }
        }
        case WINDOW_UPDATE -> {
          if (length != 4) {
            throw protocolError("WINDOW_UPDATE of " + length + " bytes");
          }
          long increment = readInt(payload, 0) & 0x7fffffffL;
          if (id == 0) {
            sendWindow += increment;
            if (sendWindow > MAX_WINDOW) {
              throw protocolError("connection window past 2^31-1");
            }
          } else {
            Call call = calls.get(id);
            if (call != null) {
              call.sendWindow += increment;
            }
          }
        }
        case PUSH_PROMISE -> throw protocolError("PUSH_PROMISE though push is off");
        default -> { } // PRIORITY, and unknown types, are ignored (RFC 9113 5.5)
      }
    }

    private int readHeader() throws IOException {
      readFully(header, 9);
      int length = (header[0] & 0xff) << 16 | (header[1] & 0xff) << 8 | header[2] & 0xff;
      if (length > DEFAULT_FRAME_SIZE) {
        // we never raised SETTINGS_MAX_FRAME_SIZE above its default
        throw protocolError("a frame of " + length + " bytes");
      }
      return length;
    }

    private void data(int id, int flags, int length) throws IOException {
      int start = (flags & PADDED) != 0 ? 1 : 0;
      int end = unpadded(flags, length);
      unacknowledged += length;
      Call call = calls.get(id);
      if (call != null && !call.done()) {
        if (!call.headersSeen) {
          throw protocolError("DATA before the answer's headers");
        }
        int room = MAX_REPLY_BYTES - call.reply.size();
        call.reply.write(payload, start, Math.max(0, Math.min(room, end - start)));
        call.unacknowledged += length;
        if ((flags & END_STREAM) != 0) {
          call.answered = true;
        } else if (call.unacknowledged >= DEFAULT_WINDOW / 2) {
          windowUpdate(id, call.unacknowledged);
          call.unacknowledged = 0;
        }
      }
      if (unacknowledged >= DEFAULT_WINDOW / 2) {
        windowUpdate(0, unacknowledged);
        unacknowledged = 0;
      }
    }

    private void windowUpdate(int id, int increment) throws IOException {
      writeFrame(WINDOW_UPDATE, 0, id, new byte[] {
          (byte) (increment >>> 24), (byte) (increment >>> 16), (byte) (increment >>> 8), (byte) increment}, 0, 4);
      out.flush();
    }

    private void headers(int id, int flags, int length) throws IOException {
      int start = (flags & PADDED) != 0 ? 1 : 0;
      int end = unpadded(flags, length);
      if ((flags & PRIORITY_FLAG) != 0) {
        start += 5;
      }
      if (start > end) {
        throw protocolError("HEADERS shorter than its padding and priority");
      }
      if (id == 0) {
        throw protocolError("HEADERS on stream 0");
      }
      blockStream = id;
      blockFlags = flags;
      blockLength = 0;
      appendBlock(start, end - start);
      if ((flags & END_HEADERS) != 0) {
        endBlock();
      }
    }

    private void appendBlock(int from, int n) throws IOException {
      if (blockLength + n > MAX_HEADER_BLOCK) {
        throw protocolError("a header block over " + MAX_HEADER_BLOCK + " bytes");
      }
      if (block.length < blockLength + n) {
        block = java.util.Arrays.copyOf(block, Math.max(blockLength + n, 2 * block.length));
      }
      System.arraycopy(payload, from, block, blockLength, n);
      blockLength += n;
    }

    /** A whole header block: through the decoder whoever's it is (its table is the connection's). */
    private void endBlock() throws IOException {
      int id = blockStream;
      blockStream = 0;
      Call call = calls.get(id);
      boolean mine = call != null && !call.done();
      boolean trailers = mine && call.headersSeen;
      if (!decoder.decode(block, 0, blockLength, (name, value) -> {
        if (mine) {
          call.field(name, value, trailers);
        }
      })) {
        throw protocolError("a header block HPACK cannot read");
      }
      if (block.length > 4 * DEFAULT_FRAME_SIZE) {
        block = new byte[0];
      }
      if (mine) {
        call.headersSeen = true;
        if ((blockFlags & END_STREAM) != 0) {
          call.answered = true;
        }
      }
    }

    private void settings(int id, int flags, int length) throws IOException {
      if (id != 0 || length % 6 != 0) {
        throw protocolError("SETTINGS on stream " + id + " of " + length + " bytes");
      }
      if ((flags & ACK) != 0) {
        return;
      }
      for (int at = 0; at < length; at += 6) {
        int key = (payload[at] & 0xff) << 8 | payload[at + 1] & 0xff;
        long value = readInt(payload, at + 2) & 0xffffffffL;
        switch (key) {
          case 3 -> peerMaxStreams = value; // SETTINGS_MAX_CONCURRENT_STREAMS
          case 4 -> { // SETTINGS_INITIAL_WINDOW_SIZE: applies to open streams too (RFC 9113 6.9.2)
            if (value > MAX_WINDOW) {
              throw protocolError("initial window " + value);
            }
            for (Call call : calls.values()) {
              call.sendWindow += value - peerInitialWindow;
            }
            peerInitialWindow = (int) value;
          }
          case 5 -> { // SETTINGS_MAX_FRAME_SIZE
            if (value < DEFAULT_FRAME_SIZE || value > MAX_FRAME_SIZE) {
              throw protocolError("max frame size " + value);
            }
            peerMaxFrame = (int) value;
          }
          default -> { } // the table size (our blocks use no table), push, list size
        }
      }
      writeFrame(SETTINGS, ACK, 0, payload, 0, 0);
      out.flush();
    }

    /** Where a DATA or HEADERS frame's content ends: before its padding when it is PADDED. */
    private int unpadded(int flags, int length) throws IOException {
      if ((flags & PADDED) == 0) {
        return length;
      }
      if (length < 1 || (payload[0] & 0xff) >= length) {
        throw protocolError("padding longer than its frame");
      }
      return length - (payload[0] & 0xff);
    }

    private IOException protocolError(String what) throws IOException {
      try {
        writeFrame(GOAWAY, 0, 0, new byte[] {0, 0, 0, 0, 0, 0, 0, PROTOCOL_ERROR}, 0, 8);
        out.flush();
      } catch (IOException ignored) {
        // the connection is closed after this anyway
      }
      return new IOException("HTTP/2 protocol error from " + authority + ": " + what);
    }

    private void readFully(byte[] b, int length) throws IOException {
      if (b == payload && length > payload.length) {
        payload = new byte[length];
        b = payload;
      }
      int at = 0;
      while (at < length) {
        int n = in.read(b, at, length - at);
        if (n < 0) {
          throw new EOFException("the endpoint " + authority + " closed the connection");
        }
        at += n;
      }
    }

    /** A polite end when no call is under way: GOAWAY naming the last stream we opened. */
    void goAwayIfIdle() {
      boolean locked = false;
      try {
        locked = lock.tryLock(100, java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (!locked) {
        return; // a write that cannot go on: closing is all that is left
      }
      try {
        if (!calls.isEmpty() || failure != null || socket.isClosed()) {
          return;
        }
        int last = Math.max(0, nextStream - 2);
        writeFrame(GOAWAY, 0, 0, new byte[] {
            (byte) (last >>> 24), (byte) (last >>> 16), (byte) (last >>> 8), (byte) last, 0, 0, 0, 0}, 0, 8);
        out.flush();
      } catch (IOException ignored) {
        // closing anyway
      } finally {
        lock.unlock();
      }
    }

    void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // nothing more to do with it
      }
    }
  }

  private static GrpcStatusCode statusOf(String code) {
    try {
      return GrpcStatusCode.fromValue(Integer.parseInt(code));
    } catch (NumberFormatException e) {
      return GrpcStatusCode.UNKNOWN;
    }
  }

  private static int streamId(byte[] b, int at) {
    return (int) (readInt(b, at) & 0x7fffffffL);
  }

  private static long readInt(byte[] b, int at) {
    return ((b[at] & 0xffL) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
  }

  /**
   * Cuts a call at its deadline by closing its connection's socket — the one way to stop a blocked
   * write. It looks at the calls' deadlines every quarter of the timeout (at most once a second),
   * and at the next deadline when that comes sooner, so a call costs it no wake-up: a call armed
   * while it sleeps is looked at within a period, at least three quarters of the timeout before its
   * deadline (a timeout under 40 ms excepted: the period is at least 10 ms). Arming woke it when
   * the list had been empty, which calls that follow each other met at nearly every call: 43-70
   * wake-ups a second under {@code bench/load.sh -x}, against 1 now.
   */
  private final class Watchdog {
    private final long periodNanos;
    private final List<Call> armed = new java.util.ArrayList<>();
    private Thread thread;
    private boolean stopped;
    /** Times the thread has looked at the deadlines. */
    private long passes;

    Watchdog(Duration timeout) {
      this.periodNanos = Math.clamp(timeout.toNanos() / 4, 10_000_000L, 1_000_000_000L);
    }

    synchronized void arm(Call call) {
      armed.add(call);
      if (thread == null && !stopped) {
        thread = Thread.ofPlatform().name("spanwire-otlp-deadline").daemon().start(this::run);
      }
    }

    synchronized void disarm(Call call) {
      armed.remove(call);
    }

    synchronized long passes() {
      return passes;
    }

    synchronized void stop() {
      stopped = true;
      notifyAll();
    }

    private synchronized void run() {
      while (!stopped) {
        passes++;
        long now = System.nanoTime();
        long wait = periodNanos;
        for (java.util.Iterator<Call> it = armed.iterator(); it.hasNext(); ) {
          Call call = it.next();
          if (now - call.deadline >= 0) {
            it.remove();
            Connection c = call.connection;
            if (c != null) {
              c.cut(new SocketTimeoutException("no answer within " + timeout.toMillis() + " ms"));
            }
          } else {
            wait = Math.min(wait, call.deadline - now);
          }
        }
        try {
          wait(Math.max(1, wait / 1_000_000));
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }
}
