package dev.spanwire.exporter.trace;

import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.Request;
import dev.spanwire.exporter.exchange.SpanIds;
import java.util.SplittableRandom;

/**
 * The stage right after pairing: each exchange gets its place in a trace here, so every stage
 * after it (linking, filters, spans, events) sees the same ids. A request carrying a valid W3C
 * {@code traceparent} joins that trace as the caller's child, sampled as the caller says; any
 * other exchange starts a trace of its own, sampled. Runs on the pipeline thread.
 */
public final class SpanIdentities implements ExchangeSink {
  private final ExchangeSink next;
  private final SplittableRandom random;

  public SpanIdentities(ExchangeSink next) {
    this(next, new SplittableRandom());
  }

  SpanIdentities(ExchangeSink next, SplittableRandom random) {
    this.next = next;
    this.random = random;
  }

  @Override
  public void onRequest(ConnectionInfo connection, String version, Request request) {
    next.onRequest(connection, version, request);
  }

  @Override
  public void onDetected(ConnectionInfo connection, int fd, long timestampNanos) {
    next.onDetected(connection, fd, timestampNanos);
  }

  @Override
  public void onExchange(Exchange exchange) {
    next.onExchange(exchange.ids() == null ? exchange.withIds(ids(exchange.request())) : exchange);
  }

  /** The ids of a request's exchange: under its valid traceparent, or a new trace. */
  SpanIds ids(Request request) {
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

  @Override
  public void flush() {
    next.flush();
  }

  @Override
  public void close() {
    next.close();
  }

  @Override
  public String toString() {
    return "SpanIdentities -> " + next;
  }
}
