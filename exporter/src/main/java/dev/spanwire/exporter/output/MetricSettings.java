package dev.spanwire.exporter.output;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;

/**
 * AppScope's metric output, beside OTLP: metric events on stdout or StatsD lines over UDP.
 *
 * @param output where the metrics go
 * @param statsd the StatsD address (for {@link Output#STATSD})
 * @param interval how often aggregated metrics leave (AppScope's summary period)
 * @param perExchange one set of metrics per exchange instead of aggregates
 * @param agent also the agent's own spanwire.* counters and gauges, each interval
 */
public record MetricSettings(Output output, InetSocketAddress statsd, Duration interval, boolean perExchange, boolean agent) {
  /** Where the metrics go. */
  public enum Output {
    NONE,
    JSON,
    STATSD;

    public static Output of(String name) {
      return switch (name.strip().toLowerCase(Locale.ROOT)) {
        case "none" -> NONE;
        case "json" -> JSON;
        case "statsd" -> STATSD;
        default -> throw new IllegalArgumentException("expected none, json or statsd");
      };
    }
  }

  public MetricSettings {
    if (interval.compareTo(Duration.ofMillis(100)) < 0) {
      throw new IllegalArgumentException("expected an interval of at least 100ms");
    }
  }

  public static MetricSettings defaults() {
    return new MetricSettings(Output.NONE, statsdAddress("udp://127.0.0.1:8125"), Duration.ofSeconds(10), false, false);
  }

  /** {@code udp://host:port}; the host is resolved now. */
  public static InetSocketAddress statsdAddress(String text) {
    URI uri;
    try {
      uri = URI.create(text.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("expected udp://HOST:PORT");
    }
    if (!"udp".equals(uri.getScheme()) || uri.getHost() == null || uri.getPort() < 1
        || (uri.getPath() != null && !uri.getPath().isEmpty())) {
      throw new IllegalArgumentException("expected udp://HOST:PORT");
    }
    InetSocketAddress address = new InetSocketAddress(uri.getHost(), uri.getPort());
    if (address.isUnresolved()) {
      throw new IllegalArgumentException("expected udp://HOST:PORT with a host that resolves");
    }
    return address;
  }
}
