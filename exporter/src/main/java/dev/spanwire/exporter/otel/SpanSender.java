package dev.spanwire.exporter.otel;

import io.opentelemetry.common.ComponentLoader;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.export.GrpcSender;
import io.opentelemetry.sdk.common.export.GrpcSenderProvider;
import io.opentelemetry.sdk.common.export.GrpcStatusCode;
import io.opentelemetry.sdk.common.export.HttpSender;
import io.opentelemetry.sdk.common.export.HttpSenderProvider;
import io.opentelemetry.sdk.common.export.MessageWriter;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.List;

/**
 * Sends encoded {@code ExportTraceServiceRequest}s over OTLP/gRPC or OTLP/HTTP. The SDK's span
 * exporter is built as for SDK spans — endpoint, headers, compression, timeout, TLS and mutual TLS
 * from the settings — and the sender it makes through {@link NoDelaySenders} is taken to send the
 * bytes {@link OtlpSpanEncoder} wrote; the SDK's marshaling is never run. A refusal carries what
 * the endpoint said, for the batcher's retry rules.
 */
final class SpanSender {
  private final GrpcSender grpc;
  private final HttpSender http;
  private final SpanExporter owner;

  private SpanSender(GrpcSender grpc, HttpSender http, SpanExporter owner) {
    this.grpc = grpc;
    this.http = http;
    this.owner = owner;
  }

  /** What the endpoint answered when it did not take a request. */
  static final class Refusal extends IOException {
    private final SpanBatcher.Failure failure;
    private final Duration retryDelay;

    Refusal(SpanBatcher.Failure failure, String message, Duration retryDelay) {
      super(message);
      this.failure = failure;
      this.retryDelay = retryDelay;
    }

    SpanBatcher.Failure failure() {
      return failure;
    }

    /** The delay the endpoint asked for before a retry (RetryInfo, Retry-After); null when none. */
    Duration retryDelay() {
      return retryDelay;
    }
  }

  static SpanSender of(ExportSettings settings) {
    Capture capture = new Capture();
    SpanExporter exporter = OtlpExporters.spans(settings, capture);
    if (capture.grpc == null && capture.http == null) {
      throw new IllegalStateException("the OTLP span exporter made no sender");
    }
    return new SpanSender(capture.grpc, capture.http, exporter);
  }

  /**
   * Sends {@code message} as it is now (the sender copies it before this returns). Completes with
   * what the endpoint said of an accepted request (its partial success), or exceptionally with a
   * {@link Refusal} or the I/O failure that left no answer.
   */
  CompletableFuture<ProtoReader.PartialSuccess> send(ProtoWriter message) {
    CompletableFuture<ProtoReader.PartialSuccess> result = new CompletableFuture<>();
    MessageWriter writer = new MessageWriter() {
      @Override
      public void writeMessage(OutputStream out) throws IOException {
        message.writeTo(out);
      }

      @Override
      public int getContentLength() {
        return message.size();
      }
    };
    if (grpc != null) {
      grpc.send(writer, response -> {
        Duration delay = response instanceof NoDelaySenders.GrpcReply reply ? reply.retryDelay() : null;
        if (response.getStatusCode() == GrpcStatusCode.OK) {
          result.complete(ProtoReader.partialSuccess(response.getResponseMessage()));
        } else {
          result.completeExceptionally(new Refusal(grpcFailure(response.getStatusCode(), response.getStatusDescription(), delay),
              "gRPC status " + response.getStatusCode() + ": " + response.getStatusDescription(), delay));
        }
      }, result::completeExceptionally);
    } else {
      http.send(writer, response -> {
        int code = response.getStatusCode();
        Duration delay = response instanceof NoDelaySenders.HttpReply reply ? reply.retryDelay() : null;
        if (code >= 200 && code < 300) {
          result.complete(ProtoReader.partialSuccess(response.getResponseBody()));
        } else {
          result.completeExceptionally(new Refusal(httpFailure(code), "HTTP " + code + " " + response.getStatusMessage(), delay));
        }
      }, result::completeExceptionally);
    }
    return result;
  }

  /**
   * OTLP/gRPC: CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE and DATA_LOSS are
   * retryable. RESOURCE_EXHAUSTED is retried too, after the delay of its RetryInfo or with
   * backoff (a throttling Collector), except when it says the message was over the server's size
   * limit (gRPC's default is 4 MiB; grpc-java and grpc-go word it "exceeds maximum size" and
   * "larger than max"), which splits the batch. Everything else is permanent.
   */
  static SpanBatcher.Failure grpcFailure(GrpcStatusCode code, String description, Duration retryDelay) {
    return switch (code) {
      case CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS -> SpanBatcher.Failure.RETRYABLE;
      case RESOURCE_EXHAUSTED -> retryDelay == null && sizeLimit(description)
          ? SpanBatcher.Failure.TOO_LARGE : SpanBatcher.Failure.RETRYABLE;
      default -> SpanBatcher.Failure.PERMANENT;
    };
  }

  private static boolean sizeLimit(String description) {
    if (description == null) {
      return false;
    }
    String d = description.toLowerCase(java.util.Locale.ROOT);
    return d.contains("exceeds maximum size") || d.contains("larger than max") || d.contains("too large");
  }

  /** OTLP/HTTP: 429, 502, 503 and 504 are retryable, 413 too large, every other status permanent. */
  static SpanBatcher.Failure httpFailure(int code) {
    return switch (code) {
      case 429, 502, 503, 504 -> SpanBatcher.Failure.RETRYABLE;
      case 413 -> SpanBatcher.Failure.TOO_LARGE;
      default -> SpanBatcher.Failure.PERMANENT;
    };
  }

  CompletableResultCode shutdown() {
    return owner.shutdown();
  }

  /** Hands the SDK our senders and keeps the one it made. */
  private static final class Capture implements ComponentLoader {
    GrpcSender grpc;
    HttpSender http;

    @Override
    public <T> Iterable<T> load(Class<T> spi) {
      if (spi == GrpcSenderProvider.class) {
        return List.of(spi.cast((GrpcSenderProvider) config -> grpc = new GrpcOverHttp2(config)));
      }
      if (spi == HttpSenderProvider.class) {
        return List.of(spi.cast((HttpSenderProvider) config -> http = new NoDelaySenders.HttpOverOkHttp(config)));
      }
      return NoDelaySenders.LOADER.load(spi);
    }
  }
}
