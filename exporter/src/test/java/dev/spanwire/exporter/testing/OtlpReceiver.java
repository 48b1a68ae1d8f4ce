package dev.spanwire.exporter.testing;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
import io.opentelemetry.proto.collector.metrics.v1.MetricsServiceGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.collector.trace.v1.TraceServiceGrpc;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/**
 * A real OTLP/gRPC receiver on 127.0.0.1: the collector's trace and metrics services, recording
 * every request it gets (gzip is decompressed by gRPC itself).
 */
public final class OtlpReceiver implements AutoCloseable {
  private final Server server;
  private final List<ExportTraceServiceRequest> traces = new CopyOnWriteArrayList<>();
  private final List<ExportMetricsServiceRequest> metrics = new CopyOnWriteArrayList<>();
  private final List<String> authorizations = new CopyOnWriteArrayList<>();
  private final java.util.Queue<Answer> traceAnswers = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final List<Long> traceArrivalNanos = new CopyOnWriteArrayList<>();
  private final List<Integer> traceArrivalSpans = new CopyOnWriteArrayList<>();
  private final List<StreamObserver<ExportTraceServiceResponse>> hanging = new CopyOnWriteArrayList<>();
  private final java.util.concurrent.atomic.AtomicInteger refusedSpans = new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicInteger traceRequestsInFlight = new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicInteger mostTraceRequestsInFlight = new java.util.concurrent.atomic.AtomicInteger();
  /** When set, each trace request takes a permit before it is answered (see {@link #holdTraceRequests}). */
  private volatile java.util.concurrent.Semaphore gate;
  private final java.util.concurrent.atomic.AtomicInteger traceRequestsArrived = new java.util.concurrent.atomic.AtomicInteger();
  /** Trace requests answered only in groups of this many (0: each at once); see {@link #answerTraceRequestsInGroupsOf}. */
  private int groupSize;
  private int groupWaiting;
  private long groupsReleased;

  /**
   * How the receiver answers one trace request, given on command: a refusal with a status (and
   * the RetryInfo delay a throttling Collector sends), an acceptance with a partial success, or no
   * answer at all.
   */
  public record Answer(io.grpc.Status status, java.time.Duration retryDelay, long rejectedSpans, String message, boolean hangs) {
    public static Answer refuse(io.grpc.Status status) {
      return new Answer(status, null, 0, null, false);
    }

    public static Answer refuse(io.grpc.Status status, java.time.Duration retryDelay) {
      return new Answer(status, retryDelay, 0, null, false);
    }

    public static Answer partialSuccess(long rejectedSpans, String message) {
      return new Answer(null, null, rejectedSpans, message, false);
    }

    public static Answer hang() {
      return new Answer(null, null, 0, null, true);
    }
  }

  private OtlpReceiver(int port, java.io.File certificate, java.io.File key) {
    this(port, certificate, key, MAX_MESSAGE_BYTES, null);
  }

  private OtlpReceiver(int port, java.io.File certificate, java.io.File key, int maxMessageBytes) {
    this(port, certificate, key, maxMessageBytes, null);
  }

  /** With {@code trustedClients}, a TLS receiver that requires a client certificate they sign (mutual TLS). */
  private OtlpReceiver(int port, java.io.File certificate, java.io.File key, int maxMessageBytes, java.io.File trustedClients) {
    io.grpc.ServerInterceptor headers = new io.grpc.ServerInterceptor() {
      @Override
      public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(
          io.grpc.ServerCall<Q, R> call, io.grpc.Metadata metadata, io.grpc.ServerCallHandler<Q, R> next) {
        String value = metadata.get(io.grpc.Metadata.Key.of("x-api-key", io.grpc.Metadata.ASCII_STRING_MARSHALLER));
        if (value != null) {
          authorizations.add(value);
        }
        return next.startCall(call, metadata);
      }
    };
    try {
      // the Collector's default limit, which a real endpoint answers with RESOURCE_EXHAUSTED
      NettyServerBuilder builder = trustedClients == null
          ? NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
          : NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port), io.grpc.TlsServerCredentials.newBuilder()
              .keyManager(certificate, key)
              .trustManager(trustedClients)
              .clientAuth(io.grpc.TlsServerCredentials.ClientAuth.REQUIRE)
              .build());
      builder.maxInboundMessageSize(maxMessageBytes);
      if (certificate != null && trustedClients == null) {
        builder.useTransportSecurity(certificate, key);
      }
      server = builder
          .addService(io.grpc.ServerInterceptors.intercept(new TraceServiceGrpc.TraceServiceImplBase() {
            @Override
            public void export(ExportTraceServiceRequest request, StreamObserver<ExportTraceServiceResponse> response) {
              traceRequestsArrived.incrementAndGet();
              java.util.concurrent.Semaphore held = gate;
              if (held != null) {
                try {
                  if (!held.tryAcquire(20, java.util.concurrent.TimeUnit.SECONDS)) {
                    response.onError(io.grpc.Status.DEADLINE_EXCEEDED.withDescription("held too long").asRuntimeException());
                    return;
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  return;
                }
              }
              int spanCount = request.getResourceSpansList().stream()
                  .flatMap(r -> r.getScopeSpansList().stream()).mapToInt(ss -> ss.getSpansCount()).sum();
              traceArrivalNanos.add(System.nanoTime());
              traceArrivalSpans.add(spanCount);
              mostTraceRequestsInFlight.accumulateAndGet(traceRequestsInFlight.incrementAndGet(), Math::max);
              try {
                if (!joinGroup()) {
                  refusedSpans.addAndGet(spanCount);
                  response.onError(io.grpc.Status.UNAVAILABLE.withDescription("no group to be answered in").asRuntimeException());
                  return;
                }
              } finally {
                traceRequestsInFlight.decrementAndGet();
              }
              Answer answer = traceAnswers.poll();
              if (answer != null && answer.hangs()) {
                hanging.add(response);
                return;
              }
              if (answer != null && answer.status() != null) {
                refusedSpans.addAndGet(spanCount);
                response.onError(refusal(answer));
                return;
              }
              traces.add(request);
              ExportTraceServiceResponse.Builder reply = ExportTraceServiceResponse.newBuilder();
              if (answer != null) {
                reply.setPartialSuccess(io.opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess.newBuilder()
                    .setRejectedSpans(answer.rejectedSpans()).setErrorMessage(answer.message()));
              }
              response.onNext(reply.build());
              response.onCompleted();
            }
          }, headers))
          .addService(new MetricsServiceGrpc.MetricsServiceImplBase() {
            @Override
            public void export(ExportMetricsServiceRequest request, StreamObserver<ExportMetricsServiceResponse> response) {
              metrics.add(request);
              response.onNext(ExportMetricsServiceResponse.getDefaultInstance());
              response.onCompleted();
            }
          })
          .build()
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("start OTLP receiver on port " + port, e);
    }
  }

  /** The largest request the receiver takes, as the OpenTelemetry Collector's gRPC receiver. */
  public static final int MAX_MESSAGE_BYTES = 4 << 20;

  /** The next trace requests are answered with these statuses, in order, and not recorded. */
  public void failTraceRequests(io.grpc.Status... statuses) {
    for (io.grpc.Status status : statuses) {
      traceAnswers.add(Answer.refuse(status));
    }
  }

  /** The next trace requests are answered so, in order (a refused or unanswered one is not recorded). */
  public void answerTraceRequests(Answer... answers) {
    traceAnswers.addAll(List.of(answers));
  }

  /**
   * From now on a trace request is answered only when {@code n} of them are waiting together: the
   * {@code n}-th releases its group. One that finds no group within 10 s is refused (UNAVAILABLE).
   * A client that sends one request at a time gets no answer but refusals.
   */
  public void answerTraceRequestsInGroupsOf(int n) {
    synchronized (traces) {
      groupSize = n;
      groupWaiting = 0;
    }
  }

  /**
   * From now on a trace request is held before it is looked at, until {@link #allowTraceRequests}
   * lets it through (at most 20 s; then it is refused with DEADLINE_EXCEEDED);
   * {@link #releaseTraceRequests} ends the holding.
   */
  public void holdTraceRequests() {
    gate = new java.util.concurrent.Semaphore(0);
  }

  /** Trace requests that have arrived, held or not, answered or not. */
  public int traceRequestsArrived() {
    return traceRequestsArrived.get();
  }

  /** Lets {@code n} held (or later) trace requests through. */
  public void allowTraceRequests(int n) {
    gate.release(n);
  }

  /** Lets every held trace request through and holds no more. */
  public void releaseTraceRequests() {
    java.util.concurrent.Semaphore held = gate;
    gate = null;
    if (held != null) {
      held.release(Integer.MAX_VALUE / 2);
    }
  }

  /** The most trace requests that were under way at once (arrived, not yet answered). */
  public int mostTraceRequestsInFlight() {
    return mostTraceRequestsInFlight.get();
  }

  private boolean joinGroup() {
    synchronized (traces) {
      if (groupSize <= 1) {
        return true;
      }
      long group = groupsReleased;
      if (++groupWaiting == groupSize) {
        groupWaiting = 0;
        groupsReleased++;
        traces.notifyAll();
        return true;
      }
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
      long left;
      while (groupsReleased == group && (left = deadline - System.nanoTime()) > 0) {
        try {
          traces.wait(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      if (groupsReleased == group) {
        groupWaiting--;
        return false;
      }
      return true;
    }
  }

  /** A refusal as grpc-java sends it, with a {@code google.rpc.RetryInfo} detail when asked. */
  private static io.grpc.StatusRuntimeException refusal(Answer answer) {
    if (answer.retryDelay() == null) {
      return answer.status().asRuntimeException();
    }
    com.google.rpc.RetryInfo retry = com.google.rpc.RetryInfo.newBuilder()
        .setRetryDelay(com.google.protobuf.Duration.newBuilder()
            .setSeconds(answer.retryDelay().getSeconds()).setNanos(answer.retryDelay().getNano()))
        .build();
    com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
        .setCode(answer.status().getCode().value())
        .setMessage(answer.status().getDescription() == null ? "" : answer.status().getDescription())
        .addDetails(com.google.protobuf.Any.pack(retry))
        .build();
    return io.grpc.protobuf.StatusProto.toStatusRuntimeException(status);
  }

  /** When each trace request arrived (System.nanoTime), refused and unanswered ones too. */
  public List<Long> traceArrivalNanos() {
    return List.copyOf(traceArrivalNanos);
  }

  /** How many spans each trace request carried, in arrival order, refused and unanswered ones too. */
  public List<Integer> traceArrivalSpans() {
    return List.copyOf(traceArrivalSpans);
  }

  /** A receiver on an ephemeral port that takes messages of at most {@code maxMessageBytes}. */
  public static OtlpReceiver startWithMessageLimit(int maxMessageBytes) {
    return new OtlpReceiver(0, null, null, maxMessageBytes);
  }

  /** Spans in the trace requests refused on command. */
  public int refusedSpans() {
    return refusedSpans.get();
  }

  /** A receiver on an ephemeral port. */
  public static OtlpReceiver start() {
    return new OtlpReceiver(0, null, null);
  }

  /** A receiver on {@code port} (a port an exporter already points at). */
  public static OtlpReceiver start(int port) {
    return new OtlpReceiver(port, null, null);
  }

  /** A receiver on an ephemeral port speaking TLS with this PEM certificate chain and PKCS#8 key. */
  public static OtlpReceiver startTls(java.nio.file.Path certificate, java.nio.file.Path key) {
    return new OtlpReceiver(0, certificate.toFile(), key.toFile());
  }

  /** A TLS receiver that takes only clients presenting a certificate {@code trustedClients} signs. */
  public static OtlpReceiver startMutualTls(java.nio.file.Path certificate, java.nio.file.Path key, java.nio.file.Path trustedClients) {
    return new OtlpReceiver(0, certificate.toFile(), key.toFile(), MAX_MESSAGE_BYTES, trustedClients.toFile());
  }

  public int port() {
    return server.getPort();
  }

  public String endpoint() {
    return "http://127.0.0.1:" + port();
  }

  public List<ExportTraceServiceRequest> traceRequests() {
    return List.copyOf(traces);
  }

  public List<ExportMetricsServiceRequest> metricRequests() {
    return List.copyOf(metrics);
  }

  /** Values of the x-api-key header seen on trace exports. */
  public List<String> apiKeys() {
    return List.copyOf(authorizations);
  }

  public List<ResourceSpans> resourceSpans() {
    return traces.stream().flatMap(r -> r.getResourceSpansList().stream()).toList();
  }

  public List<Span> spans() {
    return resourceSpans().stream()
        .flatMap(r -> r.getScopeSpansList().stream())
        .flatMap(s -> s.getSpansList().stream())
        .toList();
  }

  /** Spans whose resource has this service.name. */
  public List<Span> spansOf(String service) {
    return resourceSpans().stream()
        .filter(r -> service.equals(attributes(r.getResource().getAttributesList()).get("service.name")))
        .flatMap(r -> r.getScopeSpansList().stream())
        .flatMap(s -> s.getSpansList().stream())
        .toList();
  }

  public List<ResourceMetrics> resourceMetrics() {
    return metrics.stream().flatMap(r -> r.getResourceMetricsList().stream()).toList();
  }

  /** The metrics of the latest export that carried this service's resource. */
  public List<Metric> latestMetricsOf(String service) {
    List<Metric> latest = new ArrayList<>();
    for (ExportMetricsServiceRequest request : metrics) {
      List<Metric> found = request.getResourceMetricsList().stream()
          .filter(r -> service.equals(attributes(r.getResource().getAttributesList()).get("service.name")))
          .flatMap(r -> r.getScopeMetricsList().stream())
          .flatMap(s -> s.getMetricsList().stream())
          .toList();
      if (!found.isEmpty()) {
        latest = found;
      }
    }
    return latest;
  }

  /** Attributes as plain Java values (String, Long, Double, Boolean). */
  public static Map<String, Object> attributes(List<KeyValue> keyValues) {
    return keyValues.stream().collect(Collectors.toMap(KeyValue::getKey, kv -> value(kv.getValue()), (a, b) -> b, java.util.LinkedHashMap::new));
  }

  private static Object value(AnyValue v) {
    return switch (v.getValueCase()) {
      case STRING_VALUE -> v.getStringValue();
      case INT_VALUE -> v.getIntValue();
      case DOUBLE_VALUE -> v.getDoubleValue();
      case BOOL_VALUE -> v.getBoolValue();
      default -> v.toString();
    };
  }

  @Override
  public void close() {
    server.shutdownNow();
  }
}
