package dev.spanwire.bench;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An OTLP/gRPC receiver that only counts, for benchmarks: it walks the protobuf wire format of
 * each trace export to count spans without building message objects, so it keeps up with an
 * exporter on another core and costs no memory. Run as a program, it listens on the given port
 * and prints its counts when stopped. Given a delay, it answers each request that long after it
 * came (no thread waits meanwhile), as an endpoint a round trip away would.
 */
public final class CountingReceiver implements AutoCloseable {
  private final Server server;
  private final AtomicLong spans = new AtomicLong();
  private final AtomicLong traceRequests = new AtomicLong();
  private final AtomicLong metricRequests = new AtomicLong();

  private final java.util.concurrent.ScheduledExecutorService later;
  private final long delayMillis;

  public CountingReceiver(int port) throws IOException {
    this(port, 0);
  }

  public CountingReceiver(int port, long delayMillis) throws IOException {
    this.delayMillis = delayMillis;
    this.later = delayMillis > 0 ? java.util.concurrent.Executors.newSingleThreadScheduledExecutor() : null;
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .withChildOption(io.grpc.netty.shaded.io.netty.channel.ChannelOption.TCP_NODELAY, true)
        .addService(counting(TraceServiceGrpc.getExportMethod(), request -> {
          spans.addAndGet(countSpans(request));
          traceRequests.incrementAndGet();
        }))
        .addService(counting(MetricsServiceGrpc.getExportMethod(), request -> metricRequests.incrementAndGet()))
        .build()
        .start();
  }

  /** The export method of a service, taking the request as raw bytes and answering empty. */
  private ServerServiceDefinition counting(MethodDescriptor<?, ?> export, java.util.function.Consumer<byte[]> onRequest) {
    MethodDescriptor<byte[], byte[]> raw = raw(export);
    byte[] empty = ExportTraceServiceResponse.getDefaultInstance().toByteArray();
    return ServerServiceDefinition.builder(export.getServiceName())
        .addMethod(raw, ServerCalls.asyncUnaryCall((request, response) -> {
          onRequest.accept(request);
          Runnable answer = () -> {
            response.onNext(empty);
            response.onCompleted();
          };
          if (later == null) {
            answer.run();
          } else {
            later.schedule(answer, delayMillis, java.util.concurrent.TimeUnit.MILLISECONDS);
          }
        }))
        .build();
  }

  /** {@code export}'s unary method with its messages as raw bytes. */
  private static MethodDescriptor<byte[], byte[]> raw(MethodDescriptor<?, ?> export) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(export.getFullMethodName())
        .setRequestMarshaller(new Bytes())
        .setResponseMarshaller(new Bytes())
        .build();
  }

  private static final class Bytes implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** resource_spans (1) -> scope_spans (2) -> spans (2), counted without decoding them. */
  static long countSpans(byte[] request) {
    try {
      return count(CodedInputStream.newInstance(request), 0);
    } catch (IOException e) {
      throw new UncheckedIOException("malformed export request", e);
    }
  }

  private static long count(CodedInputStream in, int depth) throws IOException {
    // the field that leads one level down: resource_spans = 1, scope_spans = 2, spans = 2
    int wanted = depth == 0 ? 1 : 2;
    long n = 0;
    while (!in.isAtEnd()) {
      int tag = in.readTag();
      if (WireFormat.getTagFieldNumber(tag) == wanted && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        if (depth == 2) {
          n++;
          in.skipField(tag);
        } else {
          int limit = in.pushLimit(in.readRawVarint32());
          n += count(in, depth + 1);
          in.popLimit(limit);
        }
      } else {
        in.skipField(tag);
      }
    }
    return n;
  }

  /** Requests a new receiver answers to itself before it listens for the run's (see {@link #warmUp}). */
  static final int WARM_UP_REQUESTS = 500;
  private static final int SPANS_PER_REQUEST = 512;

  /**
   * Answers {@code requests} gzip-compressed trace exports of 512 spans each that it sends itself,
   * then forgets them: the run's exporter then meets a receiver whose JIT compilers have done their
   * work (a cold one took most of a second over its first request), as a collector that has been
   * running would be.
   */
  void warmUp(int requests) throws InterruptedException {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port()).usePlaintext().build();
    try {
      MethodDescriptor<byte[], byte[]> raw = raw(TraceServiceGrpc.getExportMethod());
      // shaped like the agent's requests (a batch of 512 spans of some 300 bytes): smaller ones left
      // the paths of large messages (HTTP/2 frames, inflating, buffers) to C2 during the runs
      ScopeSpans.Builder scope = ScopeSpans.newBuilder();
      for (int i = 0; i < SPANS_PER_REQUEST; i++) {
        scope.addSpans(Span.newBuilder().setName("GET /warm-up/" + i)
            .setTraceId(ByteString.copyFrom(new byte[16]))
            .setSpanId(ByteString.copyFrom(new byte[8]))
            .addAttributes(io.opentelemetry.proto.common.v1.KeyValue.newBuilder().setKey("http_target")
                .setValue(io.opentelemetry.proto.common.v1.AnyValue.newBuilder()
                    .setStringValue("/warm-up/" + i + "?" + "q".repeat(200 + i % 64)))));
      }
      byte[] request = ExportTraceServiceRequest.newBuilder()
          .addResourceSpans(ResourceSpans.newBuilder().addScopeSpans(scope))
          .build().toByteArray();
      // four at a time, as an exporter with requests in flight sends them
      List<ListenableFuture<byte[]>> inFlight = new ArrayList<>();
      for (int i = 0; i < requests; i++) {
        inFlight.add(ClientCalls.futureUnaryCall(
            channel.newCall(raw, CallOptions.DEFAULT.withCompression("gzip")), request));
        if (inFlight.size() == 4 || i == requests - 1) {
          for (var answer : inFlight) {
            try {
              answer.get(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException e) {
              throw new IllegalStateException("the receiver did not answer its own warm-up request", e);
            }
          }
          inFlight.clear();
        }
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
    }
    spans.set(0);
    traceRequests.set(0);
  }

  public int port() {
    return server.getPort();
  }

  public long spans() {
    return spans.get();
  }

  public long traceRequests() {
    return traceRequests.get();
  }

  public long metricRequests() {
    return metricRequests.get();
  }

  @Override
  public void close() {
    server.shutdownNow();
    if (later != null) {
      later.shutdownNow();
    }
  }

  /** {@code CountingReceiver PORT [DELAY_MS]}: receive until SIGTERM, then print the counts. */
  public static void main(String[] args) throws Exception {
    CountingReceiver receiver = new CountingReceiver(Integer.parseInt(args[0]), args.length > 1 ? Long.parseLong(args[1]) : 0);
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("received spans " + receiver.spans() + " in " + receiver.traceRequests()
          + " requests, metric exports " + receiver.metricRequests());
      receiver.close();
      done.countDown();
    }));
    receiver.warmUp(WARM_UP_REQUESTS);
    System.out.println("listening on " + receiver.port());
    done.await();
  }
}
