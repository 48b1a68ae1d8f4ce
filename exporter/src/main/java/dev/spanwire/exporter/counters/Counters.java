package dev.spanwire.exporter.counters;

import dev.spanwire.semconv.AgentMetric;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The one registry of the agent's counters and gauges. Components get their counters here (or
 * register where they keep a value); the exit summary, the once-a-minute drop report and the
 * {@code spanwire.*} metrics all read this registry, so a new counter is an {@link AgentMetric}
 * entry and the line that counts it. Registration happens while the agent is wired, on one thread;
 * reads on any thread.
 */
public final class Counters {
  private final Map<AgentMetric, LongSupplier> values = new EnumMap<>(AgentMetric.class);

  /** The counter of {@code metric}, made on first use; its one writer is whoever asked first. */
  public Counter counter(AgentMetric metric) {
    LongSupplier existing = values.get(metric);
    if (existing instanceof Counter counter) {
      return counter;
    }
    if (existing != null) {
      throw new IllegalStateException(metric + " is registered as a value, not a counter");
    }
    Counter counter = new Counter();
    values.put(metric, counter);
    return counter;
  }

  /** Registers where a component keeps the value of {@code metric} itself. */
  public void register(AgentMetric metric, LongSupplier value) {
    if (values.putIfAbsent(metric, value) != null) {
      throw new IllegalStateException(metric + " is registered twice");
    }
  }

  /** The value of {@code metric} now, 0 when nothing registered it. */
  public long get(AgentMetric metric) {
    LongSupplier value = values.get(metric);
    return value == null ? 0 : value.getAsLong();
  }

  /** Every registered metric and where its value comes from, in the enum's order. */
  public Map<AgentMetric, LongSupplier> all() {
    return Collections.unmodifiableMap(values);
  }

  /** Each registered metric and where its value is read, in the order of {@link AgentMetric}. */
  public void forEach(java.util.function.BiConsumer<AgentMetric, LongSupplier> action) {
    values.forEach(action);
  }

  /** One line: each registered metric with a summary label, {@code label value}, comma separated. */
  public String summary() {
    StringBuilder line = new StringBuilder();
    values.forEach((metric, value) -> {
      if (metric.summaryLabel() != null) {
        if (!line.isEmpty()) {
          line.append(", ");
        }
        line.append(metric.summaryLabel()).append(' ').append(value.getAsLong());
      }
    });
    return line.toString();
  }

  /** The loss counters' values now, to compare with a later {@link #losses()}. */
  public Map<AgentMetric, Long> losses() {
    Map<AgentMetric, Long> losses = new LinkedHashMap<>();
    values.forEach((metric, value) -> {
      if (metric.loss()) {
        losses.put(metric, value.getAsLong());
      }
    });
    return losses;
  }

  /** What grew since {@code before}, as {@code label +n} pairs, or an empty string. */
  public static String grown(Map<AgentMetric, Long> before, Map<AgentMetric, Long> now) {
    StringBuilder line = new StringBuilder();
    now.forEach((metric, value) -> {
      long delta = value - before.getOrDefault(metric, 0L);
      if (delta > 0) {
        if (!line.isEmpty()) {
          line.append(", ");
        }
        line.append(delta).append(' ').append(metric.summaryLabel() == null ? metric.metricName() : metric.summaryLabel());
      }
    });
    return line.toString();
  }

  @Override
  public String toString() {
    return "Counters{" + summary() + "}";
  }
}
