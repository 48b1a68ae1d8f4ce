package dev.spanwire.bench;

import dev.spanwire.bpf.ConnectionClosed;
import dev.spanwire.bpf.ConnectionOpened;
import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Role;
import dev.spanwire.bpf.SocketEvent;
import dev.spanwire.bpf.Source;
import dev.spanwire.exporter.connection.ConnectionTracker;
import dev.spanwire.exporter.connection.PipelineSettings;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ExchangeSink;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Small unary gRPC calls per second through HTTP/2 frames, HPACK (Netty's encoder wrote the
 * blocks: indexed fields once the table holds them, as real peers send) and stream pairing, on one
 * thread; run with {@code -prof gc} for bytes allocated per call. One operation is one call: a
 * request write (HEADERS and a DATA message) and a response write (HEADERS, DATA, trailers).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class Http2Benchmark {
  static final int CALLS = 1000;

  private List<SocketEvent> events;
  private ConnectionTracker pipeline;
  private PipelineBenchmark.CountingSink sink;

  @Setup(Level.Trial)
  public void setUp(Blackhole blackhole) throws Exception {
    sink = new PipelineBenchmark.CountingSink();
    sink.blackhole = blackhole;
    // the linking window off: a server on loopback whose client is not in the benchmark would wait
    // 50 ms for it; this measures parsing and pairing, the window is a delay, not work
    pipeline = new ConnectionTracker(sink, PipelineSettings.defaults().withTraces(
        dev.spanwire.exporter.trace.TraceSettings.defaults().withLinkingWindow(java.time.Duration.ZERO)));
    events = new ArrayList<>();
    // one connection per trial run: stream ids and the HPACK tables restart with it
    DefaultHttp2HeadersEncoder client = new DefaultHttp2HeadersEncoder();
    DefaultHttp2HeadersEncoder server = new DefaultHttp2HeadersEncoder();
    InetSocketAddress local = new InetSocketAddress("127.0.0.1", 50051);
    InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 40000);
    long[] position = new long[2];
    long time = 1_000_000;
    events.add(new ConnectionOpened(1, 100, 100, 5, time, 0, 0, local, remote, Role.SERVER, "bench", "bench"));
    time = add(events, position, time, Direction.EGRESS, frame(4, 0, 0, new byte[0]));
    time = add(events, position, time, Direction.INGRESS,
        concat("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), frame(4, 0, 0, new byte[0])));
    byte[] message = grpcMessage("name: world".getBytes(StandardCharsets.UTF_8));
    byte[] answer = grpcMessage("message: hello world".getBytes(StandardCharsets.UTF_8));
    for (int i = 0; i < CALLS; i++) {
      int stream = 2 * i + 1;
      byte[] request = concat(
          frame(1, 0x4, stream, block(client, ":method", "POST", ":scheme", "http", ":path", "/helloworld.Greeter/SayHello",
              ":authority", "greeter:50051", "content-type", "application/grpc", "te", "trailers",
              "user-agent", "grpc-java-netty/1.85.1", "grpc-accept-encoding", "gzip", "grpc-timeout", "999" + (i % 10) + "u")),
          frame(0, 0x1, stream, message));
      byte[] response = concat(
          frame(1, 0x4, stream, block(server, ":status", "200", "content-type", "application/grpc", "grpc-encoding", "identity",
              "grpc-accept-encoding", "gzip")),
          frame(0, 0, stream, answer),
          frame(1, 0x5, stream, block(server, "grpc-status", "0")));
      time = add(events, position, time, Direction.INGRESS, request);
      time = add(events, position, time, Direction.EGRESS, response);
    }
    events.add(new ConnectionClosed(1, 100, 100, 5, time + 1000, position[0], position[1]));
  }

  private static long add(List<SocketEvent> events, long[] position, long time, Direction direction, byte[] bytes) {
    int d = direction.ordinal();
    events.add(new DataCaptured(1, 100, 101, 5, time + 1000, direction,
        direction == Direction.INGRESS ? Source.READ : Source.WRITE, position[d], bytes.length, bytes));
    position[d] += bytes.length;
    return time + 1000;
  }

  private static byte[] block(DefaultHttp2HeadersEncoder encoder, String... namesAndValues) throws Exception {
    Http2Headers headers = new DefaultHttp2Headers(false);
    for (int i = 0; i < namesAndValues.length; i += 2) {
      headers.add(namesAndValues[i], namesAndValues[i + 1]);
    }
    ByteBuf out = Unpooled.buffer();
    encoder.encodeHeaders(0, headers, out);
    byte[] bytes = new byte[out.readableBytes()];
    out.readBytes(bytes);
    return bytes;
  }

  private static byte[] frame(int type, int flags, int stream, byte[] payload) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(payload.length >>> 16);
    out.write(payload.length >>> 8);
    out.write(payload.length);
    out.write(type);
    out.write(flags);
    out.write(stream >>> 24 & 0x7f);
    out.write(stream >>> 16);
    out.write(stream >>> 8);
    out.write(stream);
    out.writeBytes(payload);
    return out.toByteArray();
  }

  private static byte[] grpcMessage(byte[] message) {
    byte[] out = new byte[5 + message.length];
    out[4] = (byte) message.length;
    System.arraycopy(message, 0, out, 5, message.length);
    return out;
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  /** One connection's life: open, {@value #CALLS} calls, close. */
  @Benchmark
  @OperationsPerInvocation(CALLS)
  public long calls() {
    long before = sink.exchanges;
    for (SocketEvent event : events) {
      pipeline.onEvent(event);
    }
    long seen = sink.exchanges - before;
    if (seen != CALLS) {
      throw new IllegalStateException(seen + " calls, expected " + CALLS);
    }
    return seen;
  }
}
