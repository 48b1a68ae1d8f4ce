package dev.spanwire.exporter.otel;

import io.opentelemetry.common.ComponentLoader;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.Compressor;
import io.opentelemetry.sdk.common.export.GrpcResponse;
import io.opentelemetry.sdk.common.export.GrpcSenderProvider;
import io.opentelemetry.sdk.common.export.GrpcStatusCode;
import io.opentelemetry.sdk.common.export.HttpResponse;
import io.opentelemetry.sdk.common.export.HttpSender;
import io.opentelemetry.sdk.common.export.HttpSenderConfig;
import io.opentelemetry.sdk.common.export.HttpSenderProvider;
import io.opentelemetry.sdk.common.export.MessageWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javax.net.SocketFactory;
import okhttp3.Call;
import okhttp3.Callback;
import okhttp3.Dispatcher;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * The OTLP senders handed to the SDK's exporters through their component loader: OTLP/gRPC on a
 * connection of its own ({@link GrpcOverHttp2}), OTLP/HTTP on OkHttp whose sockets set
 * {@code TCP_NODELAY}.
 *
 * <p>The SDK's own OkHttp senders leave Nagle's algorithm on. An export request ends in a short
 * segment; Nagle holds it until the collector acknowledges the previous one, and the collector's
 * kernel delays that acknowledgement by 40 ms, so every batch took 40 ms more and span export
 * topped out near 10,000 spans/s however fast the collector was. With the delay off a 512-span
 * batch to a local collector takes about a millisecond.
 *
 * <p>They send exactly what the SDK's senders send (gRPC framing with the compressor's
 * {@code grpc-encoding}; HTTP with {@code Content-Encoding}) and do not retry: the span batcher
 * retries whole batches itself.
 */
final class NoDelaySenders implements ComponentLoader {
  static final NoDelaySenders LOADER = new NoDelaySenders();
  /** An export's answer is a few bytes; an endpoint's longer reply is read only this far. */
  private static final long MAX_REPLY_BYTES = 1 << 20;

  private NoDelaySenders() {}

  @Override
  public <T> Iterable<T> load(Class<T> spi) {
    if (spi == GrpcSenderProvider.class) {
      return List.of(spi.cast((GrpcSenderProvider) GrpcOverHttp2::new));
    }
    if (spi == HttpSenderProvider.class) {
      return List.of(spi.cast((HttpSenderProvider) HttpOverOkHttp::new));
    }
    return ComponentLoader.forClassLoader(NoDelaySenders.class.getClassLoader()).load(spi);
  }

  /** Plain sockets with Nagle's algorithm off; TLS is layered on them by OkHttp. */
  static final class NoDelaySocketFactory extends SocketFactory {
    @Override
    public Socket createSocket() throws IOException {
      Socket socket = new Socket();
      socket.setTcpNoDelay(true);
      return socket;
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
      throw unconnectedOnly();
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
      throw unconnectedOnly();
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
      throw unconnectedOnly();
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
        throws IOException {
      throw unconnectedOnly();
    }

    private static UnsupportedOperationException unconnectedOnly() {
      return new UnsupportedOperationException("OkHttp connects the sockets it creates itself");
    }
  }

  /**
   * The client both senders share the settings of. {@code protocols} are for plain {@code http}
   * endpoints; over TLS (an {@code https} endpoint) ALPN negotiates HTTP/2 or HTTP/1.1.
   */
  private static OkHttpClient client(
      ExecutorService executor,
      Duration timeout,
      Duration connectTimeout,
      javax.net.ssl.SSLContext sslContext,
      javax.net.ssl.X509TrustManager trustManager,
      URI endpoint,
      List<Protocol> protocols) {
    OkHttpClient.Builder b = new OkHttpClient.Builder()
        .socketFactory(new NoDelaySocketFactory())
        .callTimeout(timeout)
        .connectTimeout(connectTimeout)
        .retryOnConnectionFailure(false);
    // as many requests in flight to the endpoint as the span batcher may send at once
    Dispatcher dispatcher = executor != null ? new Dispatcher(executor) : new Dispatcher();
    dispatcher.setMaxRequestsPerHost(ExportSettings.MAX_CONCURRENT_EXPORTS);
    b.dispatcher(dispatcher);
    if (sslContext != null && trustManager != null) {
      b.sslSocketFactory(sslContext.getSocketFactory(), trustManager);
    }
    if (!"https".equalsIgnoreCase(endpoint.getScheme())) {
      b.protocols(protocols);
    }
    return b.build();
  }

  private static Headers headers(Supplier<Map<String, List<String>>> supplier) {
    Headers.Builder h = new Headers.Builder();
    Map<String, List<String>> map = supplier == null ? null : supplier.get();
    if (map != null) {
      map.forEach((name, values) -> values.forEach(v -> h.add(name, v)));
    }
    return h.build();
  }

  /** Reads the reply out of a response, on OkHttp's thread. */
  private interface ReplyReader<T> {
    T read(Response response) throws IOException;
  }

  /** Runs the call: its reply goes to {@code onResponse}, any failure (reading it too) to {@code onError}. */
  private static <T> void enqueue(
      OkHttpClient client, Request request, ReplyReader<T> reader, Consumer<T> onResponse, Consumer<Throwable> onError) {
    client.newCall(request).enqueue(new Callback() {
      @Override
      public void onFailure(Call call, IOException e) {
        onError.accept(e);
      }

      @Override
      public void onResponse(Call call, Response response) {
        T reply;
        try (response) {
          reply = reader.read(response);
        } catch (IOException | RuntimeException e) {
          onError.accept(e);
          return;
        }
        onResponse.accept(reply);
      }
    });
  }

  private static CompletableResultCode shutdown(OkHttpClient client, boolean ownsExecutor) {
    client.dispatcher().cancelAll();
    if (ownsExecutor) {
      client.dispatcher().executorService().shutdownNow();
    }
    client.connectionPool().evictAll();
    return CompletableResultCode.ofSuccess();
  }

  /** A gRPC answer, with the delay a refusal's RetryInfo asked for (null when it gave none). */
  record GrpcReply(GrpcStatusCode getStatusCode, String getStatusDescription, byte[] getResponseMessage, Duration retryDelay)
      implements GrpcResponse {}

  /** An HTTP answer, with the delay its Retry-After asked for (null when it gave none). */
  record HttpReply(int getStatusCode, String getStatusMessage, byte[] getResponseBody, Duration retryDelay)
      implements HttpResponse {}

  /** {@code Retry-After}: delay-seconds or an HTTP-date; null when absent or unreadable. */
  static Duration retryAfter(String value, java.time.Instant now) {
    if (value == null || value.isBlank()) {
      return null;
    }
    String v = value.trim();
    try {
      long seconds = Long.parseLong(v);
      return seconds < 0 ? null : Duration.ofSeconds(Math.min(seconds, Duration.ofDays(1).toSeconds()));
    } catch (NumberFormatException notSeconds) {
      try {
        java.time.Instant at = java.time.ZonedDateTime.parse(v, java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        Duration d = Duration.between(now, at);
        return d.isNegative() ? Duration.ZERO : d;
      } catch (java.time.format.DateTimeParseException notDate) {
        return null;
      }
    }
  }

  /** OTLP/HTTP: one POST per export. */
  static final class HttpOverOkHttp implements HttpSender {
    private final OkHttpClient client;
    private final boolean ownsExecutor;
    private final HttpUrl url;
    private final MediaType contentType;
    private final Compressor compressor;
    private final Supplier<Map<String, List<String>>> headers;

    HttpOverOkHttp(HttpSenderConfig config) {
      OkHttpClient base = client(config.getExecutorService(), config.getTimeout(), config.getConnectTimeout(),
          config.getSslContext(), config.getTrustManager(), config.getEndpoint(), List.of(Protocol.HTTP_1_1));
      this.client = config.getProxyOptions() == null
          ? base
          : base.newBuilder().proxySelector(config.getProxyOptions().getProxySelector()).build();
      this.ownsExecutor = config.getExecutorService() == null;
      this.url = HttpUrl.get(config.getEndpoint().toString());
      this.contentType = MediaType.get(config.getContentType());
      this.compressor = config.getCompressor();
      this.headers = config.getHeadersSupplier();
    }

    /** The message, compressed when a compressor is set: gzip by {@link Gzip} (level 1). */
    private byte[] encode(MessageWriter writer) throws IOException {
      java.io.ByteArrayOutputStream message = new java.io.ByteArrayOutputStream(Math.max(32, writer.getContentLength()));
      if (compressor != null && !compressor.getEncoding().equals("gzip")) {
        try (OutputStream out = compressor.compress(message)) {
          writer.writeMessage(out);
        }
        return message.toByteArray();
      }
      writer.writeMessage(message);
      if (compressor == null) {
        return message.toByteArray();
      }
      byte[] plain = message.toByteArray();
      Gzip gzip = Gzip.shared();
      synchronized (gzip) {
        byte[] out = new byte[gzip.bound(plain.length)];
        return java.util.Arrays.copyOf(out, gzip.compress(plain, 0, plain.length, out, 0));
      }
    }

    @Override
    public void send(MessageWriter writer, Consumer<HttpResponse> onResponse, Consumer<Throwable> onError) {
      RequestBody body;
      try {
        body = RequestBody.create(encode(writer), contentType);
      } catch (IOException | RuntimeException e) {
        onError.accept(e);
        return;
      }
      Request.Builder request = new Request.Builder().url(url).headers(headers(headers)).post(body);
      if (compressor != null) {
        request.header("Content-Encoding", compressor.getEncoding());
      }
      enqueue(client, request.build(),
          response -> new HttpReply(response.code(), response.message(), response.peekBody(MAX_REPLY_BYTES).bytes(),
              retryAfter(response.header("Retry-After"), java.time.Instant.now())),
          onResponse, onError);
    }

    @Override
    public CompletableResultCode shutdown() {
      return NoDelaySenders.shutdown(client, ownsExecutor);
    }

  }
}
