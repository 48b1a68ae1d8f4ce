package dev.spanwire.exporter.trace;

import java.time.Duration;

/**
 * How exchanges become traces.
 *
 * @param sampler which traces are exported
 * @param linkingWindow how long a finished server span whose client may still be reported waits
 *     for it (0: spans leave at once, linked only when their client came first)
 * @param maxHeldBytes the heap the exchanges waiting in the linking window may hold together (as
 *     {@link dev.spanwire.exporter.exchange.HandOffQueue#heldBytes} estimates; with bodies
 *     captured one holds megabytes); past it the oldest waiting traces give up and leave as they are
 */
public record TraceSettings(Sampler sampler, Duration linkingWindow, long maxHeldBytes) {
  public static final Duration DEFAULT_LINKING_WINDOW = Duration.ofMillis(300);
  /** The longest window allowed: held spans cost memory and delay every output. */
  public static final Duration MAX_LINKING_WINDOW = Duration.ofSeconds(10);

  public TraceSettings {
    if (linkingWindow.isNegative() || linkingWindow.compareTo(MAX_LINKING_WINDOW) > 0) {
      throw new IllegalArgumentException("expected a linking window of 0 to 10s, got " + linkingWindow);
    }
    if (maxHeldBytes <= 0) {
      throw new IllegalArgumentException("expected a positive bound on held bytes, got " + maxHeldBytes);
    }
  }

  /** Held exchanges may take an eighth of the JVM's heap, as each output's queue may. */
  public TraceSettings(Sampler sampler, Duration linkingWindow) {
    this(sampler, linkingWindow, Runtime.getRuntime().maxMemory() / 8);
  }

  public static TraceSettings defaults() {
    return new TraceSettings(Sampler.DEFAULT, DEFAULT_LINKING_WINDOW);
  }

  public TraceSettings withSampler(Sampler other) {
    return new TraceSettings(other, linkingWindow, maxHeldBytes);
  }

  public TraceSettings withLinkingWindow(Duration window) {
    return new TraceSettings(sampler, window, maxHeldBytes);
  }

  public TraceSettings withMaxHeldBytes(long bytes) {
    return new TraceSettings(sampler, linkingWindow, bytes);
  }
}
