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

    Refusal(SpanBatcher.Failure failure, String message) {
      super(message);
      this.failure = failure;
    }

    SpanBatcher.Failure failure() {
      return failure;
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

  /** Sends {@code message} as it is now (the sender copies it before this returns). */
  CompletableResultCode send(ProtoWriter message) {
    CompletableResultCode result = new CompletableResultCode();
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
        if (response.getStatusCode() == GrpcStatusCode.OK) {
          result.succeed();
        } else {
          result.failExceptionally(new Refusal(grpcFailure(response.getStatusCode()),
              "gRPC status " + response.getStatusCode() + ": " + response.getStatusDescription()));
        }
      }, result::failExceptionally);
    } else {
      http.send(writer, response -> {
        int code = response.getStatusCode();
        if (code >= 200 && code < 300) {
          result.succeed();
        } else {
          result.failExceptionally(new Refusal(httpFailure(code), "HTTP " + code + " " + response.getStatusMessage()));
        }
      }, result::failExceptionally);
    }
    return result;
  }

  /**
   * OTLP/gRPC: CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE and DATA_LOSS are
   * retryable; RESOURCE_EXHAUSTED is what a server answers a message over its size limit (gRPC's
   * default is 4 MiB) as well as throttling, so it first splits the batch; everything else is
   * permanent.
   */
  static SpanBatcher.Failure grpcFailure(GrpcStatusCode code) {
    return switch (code) {
      case CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS -> SpanBatcher.Failure.RETRYABLE;
      case RESOURCE_EXHAUSTED -> SpanBatcher.Failure.TOO_LARGE;
      default -> SpanBatcher.Failure.PERMANENT;
    };
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
        return List.of(spi.cast((GrpcSenderProvider) config -> grpc = new NoDelaySenders.GrpcOverOkHttp(config)));
      }
      if (spi == HttpSenderProvider.class) {
        return List.of(spi.cast((HttpSenderProvider) config -> http = new NoDelaySenders.HttpOverOkHttp(config)));
      }
      return NoDelaySenders.LOADER.load(spi);
    }
  }
}
