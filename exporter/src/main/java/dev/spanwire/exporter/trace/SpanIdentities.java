package dev.spanwire.exporter.trace;

import dev.spanwire.exporter.exchange.Request;
import dev.spanwire.exporter.exchange.SpanIds;
import java.util.SplittableRandom;

/**
 * Where an exchange's place in a trace is decided: when a protocol session pairs it, so every
 * stage after pairing (linking, filters, spans, events) sees the same ids. A request carrying a
 * valid W3C {@code traceparent} joins that trace as the caller's child, sampled as the caller
 * says; any other exchange starts a trace of its own, sampled. Used on the pipeline thread.
 */
public final class SpanIdentities {
  private final SplittableRandom random;

  public SpanIdentities() {
    this(new SplittableRandom());
  }

  public SpanIdentities(SplittableRandom random) {
    this.random = random;
  }

  /** The ids of a request's exchange: under its valid traceparent, or a new trace. */
  public SpanIds ids(Request request) {
    long spanId = nonZero();
    SpanIds parent = Traceparent.parse(request.traceparent());
    if (parent != null) {
      return new SpanIds(parent.traceIdHigh(), parent.traceIdLow(), spanId, parent.spanId(), true, parent.sampled(),
          request.tracestate());
    }
    return new SpanIds(random.nextLong(), nonZero(), spanId, 0, false, true, null);
  }

  /** A random id that is not all zeros (W3C: all-zero ids are invalid). */
  private long nonZero() {
    long id;
    do {
      id = random.nextLong();
    } while (id == 0);
    return id;
  }
}
