package dev.spanwire.exporter.otel;

import io.opentelemetry.api.metrics.MeterProvider;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The SDK's OTLP exporters, configured from {@link ExportSettings}. Their own retry is off: the
 * span batcher retries a failed batch itself, so nothing queued is lost to a short outage, and
 * the metric exporter sends cumulative values again at the next interval anyway. (The four
 * builders share no interface, hence four short chains.)
 */
final class OtlpExporters {
  private OtlpExporters() {}

  /** The TLS material of the settings, read once. */
  private record Tls(byte[] trusted, byte[] key, byte[] chain) {
    static Tls of(ExportSettings s) {
      return new Tls(read(s.certificate()), read(s.clientKey()), read(s.clientCertificate()));
    }

    void apply(Consumer<byte[]> trustedCertificates, BiConsumer<byte[], byte[]> clientTls) {
      if (trusted != null) {
        trustedCertificates.accept(trusted);
      }
      if (key != null && chain != null) {
        clientTls.accept(key, chain);
      }
    }
  }

  static SpanExporter spans(ExportSettings s) {
    return spans(s, NoDelaySenders.LOADER);
  }

  /** The span exporter, its sender made through {@code loader}. */
  static SpanExporter spans(ExportSettings s, io.opentelemetry.common.ComponentLoader loader) {
    Tls tls = Tls.of(s);
    if (s.protocol() == ExportSettings.Protocol.GRPC) {
      var b = OtlpGrpcSpanExporter.builder().setEndpoint(s.tracesEndpoint()).setCompression(s.compression())
          .setTimeout(s.timeout()).setRetryPolicy(null).setMeterProvider(MeterProvider::noop)
          .setMemoryMode(MemoryMode.REUSABLE_DATA)
          .setComponentLoader(loader);
      s.headers().forEach(b::addHeader);
      tls.apply(b::setTrustedCertificates, b::setClientTls);
      return b.build();
    }
    var b = OtlpHttpSpanExporter.builder().setEndpoint(s.tracesEndpoint()).setCompression(s.compression())
        .setTimeout(s.timeout()).setRetryPolicy(null).setMeterProvider(MeterProvider::noop)
          .setComponentLoader(loader);
    s.headers().forEach(b::addHeader);
    tls.apply(b::setTrustedCertificates, b::setClientTls);
    return b.build();
  }

  static MetricExporter metrics(ExportSettings s) {
    Tls tls = Tls.of(s);
    if (s.protocol() == ExportSettings.Protocol.GRPC) {
      var b = OtlpGrpcMetricExporter.builder().setEndpoint(s.metricsEndpoint()).setCompression(s.compression())
          .setTimeout(s.timeout()).setRetryPolicy(null).setMeterProvider(MeterProvider::noop)
          .setComponentLoader(NoDelaySenders.LOADER);
      s.headers().forEach(b::addHeader);
      tls.apply(b::setTrustedCertificates, b::setClientTls);
      return b.build();
    }
    var b = OtlpHttpMetricExporter.builder().setEndpoint(s.metricsEndpoint()).setCompression(s.compression())
        .setTimeout(s.timeout()).setRetryPolicy(null).setMeterProvider(MeterProvider::noop)
          .setComponentLoader(NoDelaySenders.LOADER);
    s.headers().forEach(b::addHeader);
    tls.apply(b::setTrustedCertificates, b::setClientTls);
    return b.build();
  }

  private static byte[] read(Path path) {
    if (path == null) {
      return null;
    }
    try {
      return Files.readAllBytes(path);
    } catch (IOException e) {
      throw new UncheckedIOException("read " + path, e);
    }
  }
}
