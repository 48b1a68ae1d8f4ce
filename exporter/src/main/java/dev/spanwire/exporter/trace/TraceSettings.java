package dev.spanwire.exporter.trace;

import java.time.Duration;

/**
 * How exchanges become traces.
 *
 * @param sampler which traces are exported
 * @param linkingWindow how long a finished server span whose client may still be reported waits
 *     for it (0: spans leave at once, linked only when their client came first)
 */
public record TraceSettings(Sampler sampler, Duration linkingWindow) {
  public static final Duration DEFAULT_LINKING_WINDOW = Duration.ofMillis(300);
  /** The longest window allowed: held spans cost memory and delay every output. */
  public static final Duration MAX_LINKING_WINDOW = Duration.ofSeconds(10);

  public TraceSettings {
    if (linkingWindow.isNegative() || linkingWindow.compareTo(MAX_LINKING_WINDOW) > 0) {
      throw new IllegalArgumentException("expected a linking window of 0 to 10s, got " + linkingWindow);
    }
  }

  public static TraceSettings defaults() {
    return new TraceSettings(Sampler.DEFAULT, DEFAULT_LINKING_WINDOW);
  }

  public TraceSettings withSampler(Sampler other) {
    return new TraceSettings(other, linkingWindow);
  }

  public TraceSettings withLinkingWindow(Duration window) {
    return new TraceSettings(sampler, window);
  }
}
