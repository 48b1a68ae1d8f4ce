package dev.spanwire.exporter.otel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.testing.Exchanges;
import dev.spanwire.semconv.NamingScheme;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.MetricData;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HttpMetricsTest {
  private static final long MS = 1_000_000L;
  private static final KernelClock CLOCK = KernelClock.withOffset(1_795_000_000_000_000_000L);

  private final Set<Integer> alive = new HashSet<>();
  private final HttpMetrics metrics = new HttpMetrics(NamingScheme.APPSCOPE, new ProcessResources("h"),
      InstrumentationScopeInfo.create("spanwire"), CLOCK, 100, alive::contains);

  private static Exchange exchange(ProcessInfo process, long atNanos) {
    return Exchanges.exchange(process, Role.SERVER, 1, "GET /x HTTP/1.1\nHost: h\n\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\n\n", atNanos, MS);
  }

  @Test
  void seriesOfAnExitedProcessAreReportedOnceMoreThenReleased() {
    ProcessInfo gone = Exchanges.process(11, "gone", null);
    ProcessInfo running = Exchanges.process(12, "running", null);
    alive.add(12);
    metrics.record(exchange(gone, 1_000 * MS));
    metrics.record(exchange(running, 1_000 * MS));
    long later = 1_001 * MS + HttpMetrics.RELEASE_AFTER_NANOS + 1;

    // within the grace period both stay, whatever /proc says
    assertThat(services(metrics.collect(CLOCK.toEpochNanos(2_000 * MS), 2_000 * MS))).containsOnly("gone", "running");
    assertThat(metrics.processCount()).isEqualTo(2);
    // past it, the exited one is reported a last time (its final totals reach the backend), then forgotten
    assertThat(services(metrics.collect(CLOCK.toEpochNanos(later), later))).containsOnly("gone", "running");
    assertThat(metrics.processCount()).isEqualTo(1);
    assertThat(services(metrics.collect(CLOCK.toEpochNanos(later), later))).containsOnly("running");
  }

  private static Set<String> services(List<MetricData> data) {
    Set<String> names = new HashSet<>();
    data.forEach(m -> names.add(m.getResource().getAttribute(ProcessResources.SERVICE_NAME)));
    return names;
  }
}
