package dev.spanwire.exporter.otel;

import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ExchangeFields;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.testing.Exchanges;
import dev.spanwire.semconv.NamingScheme;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The span export thread's own work without the network: a batch of 512 exchanges (of 20
 * processes, as {@code ExportBenchmark} makes them) encoded into one OTLP request's protobuf
 * bytes, as {@code SpanBatcher} does before it compresses and sends. One operation is one span;
 * run with {@code -prof gc} for bytes allocated per span.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SpanEncoderBenchmark {
  private static final int BATCH = 512;

  @Param({"appscope", "otel-stable"})
  public String scheme;

  private OtlpSpanEncoder encoder;
  private final List<List<Exchange>> batches = new ArrayList<>();
  private final ProtoWriter out = new ProtoWriter(1 << 20);
  private int next;

  @Setup
  public void setUp() {
    List<ProcessInfo> processes = new ArrayList<>();
    for (int p = 0; p < 20; p++) {
      processes.add(Exchanges.process(1000 + p, "svc" + p, null));
    }
    List<Exchange> all = new ArrayList<>();
    for (int i = 0; i < 2048; i++) {
      all.add(Exchanges.exchange(processes.get(i % 20), i % 2 == 0 ? Role.SERVER : Role.CLIENT, i,
          "GET /api/items/" + i + "?page=2 HTTP/1.1\nHost: shop.example:8080\nUser-Agent: bench/1.0\n\n",
          "HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: 42\n\n" + "x".repeat(42),
          1_000_000_000L + i * 1000L, 2_500_000L));
    }
    for (int b = 0; b < all.size() / BATCH; b++) {
      batches.add(all.subList(b * BATCH, (b + 1) * BATCH));
    }
    NamingScheme naming = NamingScheme.of(scheme);
    encoder = new OtlpSpanEncoder(KernelClock.calibrate(), new ExchangeFields(naming), null, new ProcessResources("bench"),
        InstrumentationScopeInfo.builder("spanwire").setVersion("bench").build());
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public int encodeBatch() {
    List<Exchange> batch = batches.get(next++ & 3);
    return encoder.encode(batch, out, (exchange, e) -> {
      throw e;
    });
  }
}
