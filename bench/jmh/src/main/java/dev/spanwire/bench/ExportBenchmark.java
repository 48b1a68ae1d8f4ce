package dev.spanwire.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.config.ConfigLayers;
import dev.spanwire.exporter.config.Settings;
import dev.spanwire.exporter.counters.Counters;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.otel.ExportSettings;
import dev.spanwire.exporter.filter.WatchRule;
import dev.spanwire.exporter.otel.OtelSink;
import dev.spanwire.exporter.testing.Exchanges;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * Span export throughput into an OTLP/gRPC receiver: exchanges go through the span batcher,
 * become spans and are exported (gzip on, as by default) as fast as the exporter drains them, in
 * the SDK's default batches of 512. Prints spans per second and this process's whole CPU (span
 * building, marshaling, compression, HTTP/2, GC and JIT) per 10,000 spans.
 *
 * <p>{@code bench/export.sh} runs it on one core and the receiver ({@link CountingReceiver}) in
 * its own process on the other, so the receiver costs the exporter nothing. Run alone it starts
 * a receiver in this process, whose CPU then counts too.
 *
 * <pre>java -cp bench/jmh/target/benchmarks.jar dev.spanwire.bench.ExportBenchmark [spans] [gzip|none] [endpoint]</pre>
 *
 * <p>{@code -Dspanwire.bench.batch=N} and {@code -Dspanwire.bench.queue=N} change the batch and
 * queue sizes from the defaults (512, 8,192) to see what a request's own cost is;
 * {@code -Dspanwire.bench.concurrent=N} the requests in flight at once (default 2).
 */
public final class ExportBenchmark {
  private ExportBenchmark() {}

  public static void main(String[] args) throws Exception {
    int total = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    String compression = args.length > 1 ? args[1] : "gzip";
    CountingReceiver local = args.length > 2 ? null : new CountingReceiver(0);
    String endpoint = local == null ? args[2] : "http://127.0.0.1:" + local.port();
    List<Exchange> exchanges = exchanges();
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    ExportSettings settings = ExportSettings.defaults()
        .withEndpoint(ExportSettings.Protocol.GRPC, endpoint)
        .withHeaders(Map.of(), compression, Duration.ofSeconds(10))
        .withSignals(true, false)
        .withBatching(Integer.getInteger("spanwire.bench.queue", ExportSettings.DEFAULT_MAX_QUEUE_SIZE),
            Integer.getInteger("spanwire.bench.batch", ExportSettings.DEFAULT_MAX_EXPORT_BATCH_SIZE),
            ExportSettings.DEFAULT_SCHEDULE_DELAY)
        .withConcurrentExports(Integer.getInteger("spanwire.bench.concurrent", ExportSettings.DEFAULT_MAX_CONCURRENT_EXPORTS));
    // the embedded default's watch rule, as the agent runs it without a configuration file
    WatchRule watch = Settings.from(ConfigLayers.load(null, List.of(), List.of())).filter().watch();
    OtelSink sink = OtelSink.start(settings, KernelClock.calibrate(), "bench", "bench", new Counters(), watch);
    try {
      run(sink, exchanges, total / 5); // warm-up
      long cpuBefore = os.getProcessCpuTime();
      long start = System.nanoTime();
      run(sink, exchanges, total);
      long elapsed = System.nanoTime() - start;
      long cpu = os.getProcessCpuTime() - cpuBefore;
      System.out.printf(
          "exported %d spans in %.2f s: %.0f spans/s; CPU %.1f ms per 10k spans (%.2f cores, %.0f spans per CPU second); %s, %d in flight%s%n",
          total, elapsed / 1e9, total / (elapsed / 1e9), cpu / 1e6 / (total / 10_000.0), cpu / (double) elapsed,
          total / (cpu / 1e9), compression, settings.maxConcurrentExports(), local == null ? "" : ", receiver in this process");
    } finally {
      sink.shutdown();
      if (local != null) {
        local.close();
      }
    }
  }

  /**
   * Offers {@code count} exchanges, offering again whenever the queue was full (the span view
   * drops and counts then), until the receiver has acknowledged all of them.
   */
  private static void run(OtelSink sink, List<Exchange> exchanges, int count) {
    ExchangeSink spans = sink.spans();
    long target = sink.spansExported() + count;
    for (int i = 0; i < count; i++) {
      Exchange e = exchanges.get(i % exchanges.size());
      while (true) {
        long dropped = sink.spansDropped();
        spans.onExchange(e);
        if (sink.spansDropped() == dropped) {
          break;
        }
        LockSupport.parkNanos(1_000_000); // the queue is full: let the exporter run (a shorter nap costs this thread more CPU than the exporter)
      }
    }
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (sink.spansExported() < target) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("only " + (sink.spansExported() - target + count) + " of " + count + " spans acknowledged");
      }
      LockSupport.parkNanos(1_000_000);
    }
  }

  /** 1,000 different exchanges of 20 processes, as the pipeline would report them. */
  private static List<Exchange> exchanges() {
    // one ProcessInfo per process, as the pipeline's registry hands out
    List<ProcessInfo> processes = new ArrayList<>();
    for (int p = 0; p < 20; p++) {
      processes.add(Exchanges.process(1000 + p, "svc" + p, null));
    }
    List<Exchange> list = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      ProcessInfo process = processes.get(i % 20);
      list.add(Exchanges.exchange(process, i % 2 == 0 ? Role.SERVER : Role.CLIENT, i,
          "GET /api/items/" + i + "?page=2 HTTP/1.1\nHost: shop.example:8080\nUser-Agent: bench/1.0\n\n",
          "HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: 42\n\n" + "x".repeat(42),
          1_000_000_000L + i * 1000L, 2_500_000L));
    }
    return list;
  }
}
