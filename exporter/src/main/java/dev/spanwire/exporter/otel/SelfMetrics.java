package dev.spanwire.exporter.otel;

import dev.spanwire.exporter.counters.Counters;
import dev.spanwire.semconv.AgentMetric;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.GaugeData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.data.SumData;
import io.opentelemetry.sdk.resources.Resource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The agent's own counters and gauges as metrics under its own resource ({@code service.name=spanwire}):
 * every metric of the agent's {@link Counters} registry, read when metrics are collected.
 */
final class SelfMetrics {
  private final Resource resource;
  private final InstrumentationScopeInfo scope;
  private final long startEpochNanos;
  private final Counters counters;

  SelfMetrics(Resource resource, InstrumentationScopeInfo scope, long startEpochNanos, Counters counters) {
    this.resource = resource;
    this.scope = scope;
    this.startEpochNanos = startEpochNanos;
    this.counters = counters;
  }

  Resource resource() {
    return resource;
  }

  List<MetricData> collect(long nowEpochNanos) {
    Map<AgentMetric, LongSupplier> all = counters.all();
    List<MetricData> metrics = new ArrayList<>(all.size());
    all.forEach((m, value) -> {
      long v = value.getAsLong();
      LongPointData point = m.counter()
          ? LongPointData.create(startEpochNanos, nowEpochNanos, Attributes.empty(), v)
          : LongPointData.create(nowEpochNanos, nowEpochNanos, Attributes.empty(), v);
      metrics.add(m.counter()
          ? new Metric(resource, scope, m.metricName(), m.description(), m.unit(), MetricDataType.LONG_SUM,
              SumData.createLongSumData(true, AggregationTemporality.CUMULATIVE, List.of(point)))
          : new Metric(resource, scope, m.metricName(), m.description(), m.unit(), MetricDataType.LONG_GAUGE,
              GaugeData.createLongGaugeData(List.of(point))));
    });
    return metrics;
  }
}
