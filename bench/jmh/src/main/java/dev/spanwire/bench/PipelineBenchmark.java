package dev.spanwire.bench;

import dev.spanwire.bpf.ConnectionClosed;
import dev.spanwire.bpf.ConnectionOpened;
import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Role;
import dev.spanwire.bpf.SocketEvent;
import dev.spanwire.bpf.Source;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.connection.ConnectionTracker;
import dev.spanwire.exporter.connection.PipelineSettings;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Exchanges per second through stream assembly, HTTP/1 parsing and pairing on one thread, over
 * recorded event sequences; run with {@code -prof gc} for bytes allocated per exchange
 * ({@code gc.alloc.rate.norm}). One operation is one exchange. The events are built beforehand,
 * as the ring buffer reader would have; what the benchmark allocates is the pipeline's own.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class PipelineBenchmark {
  static final int EXCHANGES = 1000;

  @Param({"keepAliveSmallGets", "nginxPage", "nginxPageBothEnds", "pipelined", "chunked", "largeHeaders",
      "connectionPerRequest"})
  public String scenario;

  /** wrk's request and nginx 1.22's answer with the 17-byte page: the exchange bench/load.sh makes. */
  static final String NGINX_REQUEST = "GET / HTTP/1.1\r\nHost: 127.0.0.1:18080\r\n\r\n";
  static final String NGINX_RESPONSE = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Fri, 04 Dec 2026 07:54:55 GMT\r\n"
      + "Content-Type: text/html\r\nContent-Length: 17\r\nLast-Modified: Fri, 04 Dec 2026 03:47:14 GMT\r\n"
      + "Connection: keep-alive\r\nETag: \"6b1237c2-11\"\r\nAccept-Ranges: bytes\r\n\r\nhello from nginx\n";
  /** Connections of {@link #bothEnds}, as wrk -c16 makes. */
  static final int CONNECTIONS = 16;

  private List<SocketEvent> events;
  private ConnectionTracker pipeline;
  private CountingSink sink;

  /** Counts exchanges into a blackhole so nothing is optimised away. */
  static final class CountingSink implements ExchangeSink {
    Blackhole blackhole;
    long exchanges;

    @Override
    public void onExchange(Exchange exchange) {
      exchanges++;
      blackhole.consume(exchange);
    }
  }

  @Setup(Level.Trial)
  public void setUp(Blackhole blackhole) {
    sink = new CountingSink();
    sink.blackhole = blackhole;
    // the linking window off: a server on loopback whose client is not in the benchmark would wait
    // 50 ms for it; this measures parsing and pairing, the window is a delay, not work. With both
    // ends traced, as bench/load.sh traces the host, the linking at its default window: each
    // client write comes before the server's read of it, so no exchange waits.
    PipelineSettings settings = scenario.equals("nginxPageBothEnds")
        ? PipelineSettings.defaults()
        : PipelineSettings.defaults().withTraces(
            dev.spanwire.exporter.trace.TraceSettings.defaults().withLinkingWindow(java.time.Duration.ZERO));
    pipeline = new ConnectionTracker(sink, settings);
    events = switch (scenario) {
      case "keepAliveSmallGets" -> keepAlive(
          "GET /api/items/%d HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\n\r\n",
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"ok\": true}\n", 1);
      // bench/load.sh's own exchange: wrk's request and nginx 1.22's answer with the 17-byte page
      case "nginxPage" -> keepAlive(NGINX_REQUEST, NGINX_RESPONSE, 1);
      case "nginxPageBothEnds" -> bothEnds(NGINX_REQUEST, NGINX_RESPONSE);
      case "pipelined" -> keepAlive(
          "GET /p/%d HTTP/1.1\r\nHost: shop.example\r\n\r\n",
          "HTTP/1.1 204 No Content\r\nServer: bench\r\n\r\n", 10);
      case "chunked" -> keepAlive(
          "GET /stream/%d HTTP/1.1\r\nHost: shop.example\r\n\r\n",
          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n8;x=y\r\n01234567\r\n0\r\n\r\n", 1);
      case "largeHeaders" -> keepAlive(
          "GET /account/%d/settings?tab=profile HTTP/1.1\r\nHost: shop.example\r\n"
              + "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n"
              + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
              + "Accept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate, br\r\n"
              + "Cookie: session=" + "s".repeat(400) + "; theme=dark; tracking=" + "t".repeat(200) + "\r\n"
              + "Referer: https://shop.example/account\r\nX-Forwarded-For: 203.0.113.7, 10.0.0.1\r\n"
              + "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
              + "Sec-Fetch-Mode: navigate\r\nSec-Fetch-Site: same-origin\r\nUpgrade-Insecure-Requests: 1\r\n\r\n",
          "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 2048\r\n"
              + "Cache-Control: private, max-age=0\r\nSet-Cookie: session=" + "s".repeat(100) + "; Path=/; HttpOnly\r\n"
              + "Strict-Transport-Security: max-age=63072000\r\nVary: Accept-Encoding\r\n\r\n" + "b".repeat(2048),
          1);
      case "connectionPerRequest" -> connectionPerRequest(
          "GET /api/items/%d HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: bench/1.0\r\nConnection: close\r\n\r\n",
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\nConnection: close\r\n\r\n{\"ok\": true}\n");
      default -> throw new IllegalArgumentException(scenario);
    };
  }

  /**
   * {@value #EXCHANGES} exchanges, each on a server connection of its own (a client that closes
   * after each request): open, request, response, close; what a connection costs to begin and end.
   */
  private static List<SocketEvent> connectionPerRequest(String request, String response) {
    InetSocketAddress local = new InetSocketAddress("127.0.0.1", 8080);
    List<SocketEvent> events = new ArrayList<>();
    long time = 1_000_000;
    for (int i = 0; i < EXCHANGES; i++) {
      long id = i + 1;
      InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 20000 + i);
      byte[] in = request.formatted(i).getBytes(StandardCharsets.ISO_8859_1);
      byte[] out = response.getBytes(StandardCharsets.ISO_8859_1);
      events.add(new ConnectionOpened(id, 100, 100, 5, time += 1000, 0, 0, local, remote, Role.SERVER, "bench", "bench"));
      events.add(new DataCaptured(id, 100, 101, 5, time += 1000, Direction.INGRESS, Source.RECVFROM, 0, in.length, in));
      events.add(new DataCaptured(id, 100, 101, 5, time += 1000, Direction.EGRESS, Source.WRITEV, 0, out.length, out));
      events.add(new ConnectionClosed(id, 100, 100, 5, time += 1000, out.length, in.length));
    }
    return events;
  }

  /**
   * {@value #EXCHANGES} exchanges from {@code EXCHANGES / 2} requests, each seen from both ends: a
   * client (wrk) and a server (nginx) process on loopback, {@value #CONNECTIONS} keep-alive
   * connections taking turns, each end's connection reported from its start. Per request, in the
   * order the ring buffer has them: the client's write, the server's read, the server's write, the
   * client's read; the client's exchange and the server's are linked into one trace.
   */
  private static List<SocketEvent> bothEnds(String request, String response) {
    InetSocketAddress server = new InetSocketAddress("127.0.0.1", 18080);
    byte[] in = request.getBytes(StandardCharsets.ISO_8859_1);
    byte[] out = response.getBytes(StandardCharsets.ISO_8859_1);
    List<SocketEvent> events = new ArrayList<>();
    long time = 1_000_000;
    for (int c = 0; c < CONNECTIONS; c++) {
      InetSocketAddress client = new InetSocketAddress("127.0.0.1", 50000 + c);
      events.add(new ConnectionOpened(clientId(c), 200, 201, 10 + c, time += 1000, 0, 0, client, server, Role.CLIENT, "wrk", "wrk"));
      events.add(new ConnectionOpened(serverId(c), 100, 100, 10 + c, time += 1000, 0, 0, server, client, Role.SERVER, "nginx", "nginx"));
    }
    long[] sent = new long[CONNECTIONS]; // requests so far on each connection
    for (int i = 0; i < EXCHANGES / 2; i++) {
      int c = i % CONNECTIONS;
      long at = sent[c]++;
      events.add(new DataCaptured(clientId(c), 200, 201, 10 + c, time += 1000, Direction.EGRESS, Source.WRITE, at * in.length, in.length, in));
      events.add(new DataCaptured(serverId(c), 100, 100, 10 + c, time += 1000, Direction.INGRESS, Source.RECVFROM, at * in.length, in.length, in));
      events.add(new DataCaptured(serverId(c), 100, 100, 10 + c, time += 1000, Direction.EGRESS, Source.WRITEV, at * out.length, out.length, out));
      events.add(new DataCaptured(clientId(c), 200, 201, 10 + c, time += 1000, Direction.INGRESS, Source.READ, at * out.length, out.length, out));
    }
    for (int c = 0; c < CONNECTIONS; c++) {
      events.add(new ConnectionClosed(clientId(c), 200, 201, 10 + c, time += 1000, sent[c] * in.length, sent[c] * out.length));
      events.add(new ConnectionClosed(serverId(c), 100, 100, 10 + c, time += 1000, sent[c] * out.length, sent[c] * in.length));
    }
    return events;
  }

  private static long clientId(int connection) {
    return 2L * connection + 1;
  }

  private static long serverId(int connection) {
    return 2L * connection + 2;
  }

  /**
   * {@value #EXCHANGES} exchanges on one server connection; {@code batch} requests share an event
   * (pipelining), and so do their responses.
   */
  private static List<SocketEvent> keepAlive(String request, String response, int batch) {
    InetSocketAddress local = new InetSocketAddress("127.0.0.1", 8080);
    InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 50000);
    List<SocketEvent> events = new ArrayList<>();
    long[] position = new long[2];
    long time = 1_000_000;
    events.add(new ConnectionOpened(1, 100, 100, 5, time, 0, 0, local, remote, Role.SERVER, "bench", "bench"));
    for (int i = 0; i < EXCHANGES; i += batch) {
      StringBuilder requests = new StringBuilder();
      StringBuilder responses = new StringBuilder();
      for (int j = 0; j < batch; j++) {
        requests.append(request.formatted(i + j));
        responses.append(response);
      }
      for (var part : List.of(requests, responses)) {
        byte[] bytes = part.toString().getBytes(StandardCharsets.ISO_8859_1);
        Direction direction = part == requests ? Direction.INGRESS : Direction.EGRESS;
        int d = direction.ordinal();
        events.add(new DataCaptured(1, 100, 101, 5, time += 1000, direction,
            direction == Direction.INGRESS ? Source.RECVFROM : Source.WRITEV, position[d], bytes.length, bytes));
        position[d] += bytes.length;
      }
    }
    events.add(new ConnectionClosed(1, 100, 100, 5, time + 1000, position[0], position[1]));
    return events;
  }

  /**
   * A sleep of {@code idleMillis} before each batch of {@link #exchangesAfterIdle}, untimed: the
   * agent's reader works in batches between sleeps (woken at an eighth of the ring or by its poll
   * timer, about 25 times a second under {@code bench/load.sh}), and its core goes idle or runs
   * the traced processes meanwhile.
   */
  @State(Scope.Thread)
  public static class Idle {
    @Param({"10"})
    public int idleMillis;

    @Setup(Level.Invocation)
    public void sleep() throws InterruptedException {
      Thread.sleep(idleMillis);
    }
  }

  /** The scenario's events once: its connections opened, {@value #EXCHANGES} exchanges, closed. */
  @Benchmark
  @OperationsPerInvocation(EXCHANGES)
  public long exchanges() {
    return run();
  }

  /**
   * {@link #exchanges} right after the thread slept (see {@link Idle}), the sleep not timed: the
   * same work as a woken reader meets it, its core having been idle. Compare with {@link
   * #exchanges} in the same run.
   */
  @Benchmark
  @OperationsPerInvocation(EXCHANGES)
  public long exchangesAfterIdle(Idle idle) {
    return run();
  }

  private long run() {
    long before = sink.exchanges;
    for (SocketEvent event : events) {
      pipeline.onEvent(event);
    }
    long seen = sink.exchanges - before;
    if (seen != EXCHANGES) {
      throw new IllegalStateException(scenario + ": " + seen + " exchanges, expected " + EXCHANGES);
    }
    return seen;
  }
}
