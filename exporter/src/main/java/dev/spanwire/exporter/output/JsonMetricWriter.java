package dev.spanwire.exporter.output;

import dev.spanwire.exporter.output.MetricsSink.Dimension;
import dev.spanwire.exporter.output.MetricsSink.Point;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;

/**
 * AppScope's metric events, one JSON line each:
 * {@code {"type":"metric","body":{"_metric":"http.requests","_metric_type":"counter","_value":3,
 * "http_method":"GET","http_target":"/a","http_status_code":200,"proc":"curl","pid":123,
 * "host":"h","unit":"request","summary":"true","_time":1700000000.123456}}}; timers and byte
 * counters add {@code numops}. Each line is one append, so it interleaves whole with the HTTP
 * events another thread writes to the same stdout.
 */
final class JsonMetricWriter implements MetricsSink.Writer {
  private final Writer out;
  private final String hostname;
  private final StringBuilder line = new StringBuilder(256);

  JsonMetricWriter(Writer out, String hostname) {
    this.out = out;
    this.hostname = hostname;
  }

  @Override
  public void write(Point point, long epochNanos) {
    line.setLength(0);
    line.append("{\"type\":\"metric\",\"body\":{\"_metric\":");
    Json.string(line, point.metric());
    line.append(",\"_metric_type\":");
    Json.string(line, point.type());
    line.append(",\"_value\":");
    number(line, point.value());
    for (Dimension dim : point.dims()) {
      line.append(',');
      Json.string(line, dim.name());
      line.append(':');
      Json.value(line, dim.value());
    }
    if (point.numops() >= 0) {
      line.append(",\"numops\":").append(point.numops());
    }
    line.append(",\"proc\":");
    Json.string(line, point.process().comm());
    line.append(",\"pid\":").append(point.process().pid());
    line.append(",\"host\":");
    Json.string(line, hostname);
    line.append(",\"unit\":");
    Json.string(line, point.unit());
    if (point.summary()) {
      line.append(",\"summary\":\"true\"");
    }
    line.append(",\"_time\":").append(epochSeconds(epochNanos)).append("}}\n");
    try {
      out.append(line);
    } catch (IOException e) {
      throw new UncheckedIOException("write metric event", e);
    }
  }

  /** Whole numbers without a fraction (as AppScope writes counts), others with up to three decimals. */
  static void number(StringBuilder out, double value) {
    if (value == Math.rint(value) && Math.abs(value) < 1e15) {
      out.append((long) value);
    } else {
      out.append(Math.round(value * 1000) / 1000.0);
    }
  }

  static String epochSeconds(long epochNanos) {
    long micros = Math.floorDiv(epochNanos, 1000);
    String fraction = Long.toString(Math.floorMod(micros, 1_000_000));
    return Math.floorDiv(micros, 1_000_000) + "." + "0".repeat(6 - fraction.length()) + fraction;
  }

  @Override
  public void flush() {
    try {
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("flush metric events", e);
    }
  }
}
