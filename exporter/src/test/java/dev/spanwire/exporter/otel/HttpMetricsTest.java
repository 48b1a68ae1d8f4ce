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

  /**
   * The only bound on the series a process keeps is the cardinality limit (100 here): the 101st
   * label set and every later one share one series marked otel.metric.overflow, so no value is
   * lost and nothing grows.
   */
  @Test
  void labelSetsPastTheLimitShareOneOverflowSeriesWithTheirCounts() {
    ProcessInfo nginx = Exchanges.process(21, "nginx", null);
    alive.add(21);
    for (int i = 0; i < 150; i++) {
      // "r" + i is a route of its own: not all digits, too short for {hex} or {token}
      metrics.record(Exchanges.exchange(nginx, Role.SERVER, 1, "GET /r" + i + " HTTP/1.1\nHost: h\n\n",
          "HTTP/1.1 200 OK\nContent-Length: 0\n\n", (1_000 + i) * MS, MS));
    }
    MetricData requests = metrics.collect(CLOCK.toEpochNanos(2_000 * MS), 2_000 * MS).stream()
        .filter(m -> m.getName().equals("http.requests")).findFirst().orElseThrow();
    List<io.opentelemetry.sdk.metrics.data.LongPointData> points = List.copyOf(requests.getLongSumData().getPoints());
    assertThat(points).hasSize(101);
    List<io.opentelemetry.sdk.metrics.data.LongPointData> overflow =
        points.stream().filter(p -> Boolean.TRUE.equals(p.getAttributes().get(HttpMetrics.OVERFLOW))).toList();
    assertThat(overflow).hasSize(1);
    assertThat(overflow.getFirst().getValue()).isEqualTo(50);
    assertThat(overflow.getFirst().getAttributes().size()).isEqualTo(1);
    assertThat(points).filteredOn(p -> p.getAttributes().get(HttpMetrics.OVERFLOW) == null)
        .allSatisfy(p -> assertThat(p.getValue()).isEqualTo(1));
  }

  /**
   * Bucket edges of the duration histogram (AppScope's, in ms: 0, 5, 10, 25, ... 10000): a value on
   * a boundary counts in the bucket that boundary closes, a value past the last one in the
   * overflow bucket; count, sum, min and max over all of them.
   */
  @Test
  void durationsOnABoundaryCountInTheBucketItClosesAndPastTheLastInTheOverflowBucket() {
    ProcessInfo nginx = Exchanges.process(22, "nginx", null);
    alive.add(22);
    long[] nanos = {5 * MS, 5 * MS + 1, 10 * MS, 10_000 * MS, 10_001 * MS, 60_000 * MS};
    for (int i = 0; i < nanos.length; i++) {
      metrics.record(Exchanges.exchange(nginx, Role.SERVER, 1, "GET /x HTTP/1.1\nHost: h\n\n",
          "HTTP/1.1 200 OK\nContent-Length: 0\n\n", (1_000 + 100 * i) * MS, nanos[i]));
    }
    MetricData duration = metrics.collect(CLOCK.toEpochNanos(200_000 * MS), 200_000 * MS).stream()
        .filter(m -> m.getName().equals("http.server.duration")).findFirst().orElseThrow();
    io.opentelemetry.sdk.metrics.data.HistogramPointData point = duration.getHistogramData().getPoints().iterator().next();
    assertThat(point.getBoundaries()).containsExactly(0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0,
        1000.0, 2500.0, 5000.0, 7500.0, 10000.0);
    //                                   <=0 <=5 <=10 ...                          <=10000 >10000
    assertThat(point.getCounts()).containsExactly(0L, 1L, 2L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 1L, 2L);
    assertThat(point.getCount()).isEqualTo(6);
    assertThat(point.getMin()).isEqualTo(5.0);
    assertThat(point.getMax()).isEqualTo(60_000.0);
    assertThat(point.getSum()).isCloseTo(5 + 5.000001 + 10 + 10_000 + 10_001 + 60_000, org.assertj.core.data.Offset.offset(1e-6));
  }

  /**
   * Body sizes go to the histogram of their own side: a server's and a client's exchange of one
   * process, under the stable names that tell the sides apart (AppScope's name both alike). The
   * client's GET carries no body and no Content-Length: no request size is recorded for it.
   */
  @Test
  void bodySizesOfServerAndClientExchangesGoToTheirOwnSidesHistograms() {
    HttpMetrics stable = new HttpMetrics(NamingScheme.OTEL_STABLE, new ProcessResources("h"),
        InstrumentationScopeInfo.create("spanwire"), CLOCK, 100, alive::contains);
    ProcessInfo app = Exchanges.process(23, "app", null);
    alive.add(23);
    stable.record(Exchanges.exchange(app, Role.SERVER, 1,
        "POST /orders HTTP/1.1\nHost: h\nContent-Length: 100\n\n" + "o".repeat(100),
        "HTTP/1.1 201 Created\nContent-Length: 7\n\ncreated", 1_000 * MS, MS));
    stable.record(Exchanges.exchange(app, Role.CLIENT, 2, "GET /stock HTTP/1.1\nHost: h\n\n",
        "HTTP/1.1 200 OK\nContent-Length: 300\n\n" + "s".repeat(300), 1_000 * MS, MS));
    stable.record(Exchanges.exchange(app, Role.CLIENT, 2, "GET /stock HTTP/1.1\nHost: h\n\n",
        "HTTP/1.1 200 OK\nContent-Length: 40\n\n" + "s".repeat(40), 1_010 * MS, MS));
    List<MetricData> data = stable.collect(CLOCK.toEpochNanos(2_000 * MS), 2_000 * MS);

    assertThat(sizes(data, "http.server.request.body.size")).containsExactly(1L, 100.0);
    assertThat(sizes(data, "http.server.response.body.size")).containsExactly(1L, 7.0);
    assertThat(sizes(data, "http.client.response.body.size")).containsExactly(2L, 340.0);
    assertThat(data).extracting(MetricData::getName).doesNotContain("http.client.request.body.size");
  }

  /** The one point of the histogram {@code name}: its count and sum. */
  private static List<Object> sizes(List<MetricData> data, String name) {
    MetricData metric = data.stream().filter(m -> m.getName().equals(name)).findFirst().orElseThrow();
    assertThat(metric.getHistogramData().getPoints()).hasSize(1);
    io.opentelemetry.sdk.metrics.data.HistogramPointData point = metric.getHistogramData().getPoints().iterator().next();
    return List.of(point.getCount(), point.getSum());
  }

  private static Set<String> services(List<MetricData> data) {
    Set<String> names = new HashSet<>();
    data.forEach(m -> names.add(m.getResource().getAttribute(ProcessResources.SERVICE_NAME)));
    return names;
  }
}
