package dev.spanwire.exporter.otel;

import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.metrics.data.AggregationTemporality;
import io.opentelemetry.sdk.metrics.data.GaugeData;
import io.opentelemetry.sdk.metrics.data.LongPointData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.metrics.data.SumData;
import io.opentelemetry.api.common.Attributes;
import dev.spanwire.semconv.AgentMetric;
import io.opentelemetry.sdk.resources.Resource;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/** The agent's own counters and gauges, exported with its own resource ({@code service.name=spanwire}). */
public final class SelfMetrics {
  /** One of the agent's numbers: a cumulative counter or a gauge. */
  public record Instrument(String name, String description, String unit, boolean counter, LongSupplier value) {
    public static Instrument counter(String name, String description, String unit, LongSupplier value) {
      return new Instrument(name, description, unit, true, value);
    }

    public static Instrument gauge(String name, String description, String unit, LongSupplier value) {
      return new Instrument(name, description, unit, false, value);
    }

    /** One of the agent's metrics as semconv names it. */
    public static Instrument of(AgentMetric metric, LongSupplier value) {
      return new Instrument(metric.metricName(), metric.description(), metric.unit(), metric.counter(), value);
    }
  }

  private final Resource resource;
  private final InstrumentationScopeInfo scope;
  private final long startEpochNanos;
  private final List<Instrument> instruments = new ArrayList<>();

  SelfMetrics(Resource resource, InstrumentationScopeInfo scope, long startEpochNanos) {
    this.resource = resource;
    this.scope = scope;
    this.startEpochNanos = startEpochNanos;
  }

  void add(Instrument instrument) {
    instruments.add(instrument);
  }

  void addAll(List<Instrument> list) {
    instruments.addAll(list);
  }

  Resource resource() {
    return resource;
  }

  List<MetricData> collect(long nowEpochNanos) {
    List<MetricData> metrics = new ArrayList<>(instruments.size());
    for (Instrument i : instruments) {
      LongPointData point = i.counter()
          ? LongPointData.create(startEpochNanos, nowEpochNanos, Attributes.empty(), i.value().getAsLong())
          : LongPointData.create(nowEpochNanos, nowEpochNanos, Attributes.empty(), i.value().getAsLong());
      metrics.add(i.counter()
          ? new Metric(resource, scope, i.name(), i.description(), i.unit(), MetricDataType.LONG_SUM,
              SumData.createLongSumData(true, AggregationTemporality.CUMULATIVE, List.of(point)))
          : new Metric(resource, scope, i.name(), i.description(), i.unit(), MetricDataType.LONG_GAUGE,
              GaugeData.createLongGaugeData(List.of(point))));
    }
    return metrics;
  }
}
