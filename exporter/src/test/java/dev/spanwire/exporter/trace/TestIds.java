package dev.spanwire.exporter.trace;

import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.Request;
import dev.spanwire.exporter.exchange.SpanIds;

/** The span identity stage's rule, for tests that build exchanges by hand. */
public final class TestIds {
  private final SpanIdentities stage = new SpanIdentities(ExchangeSink.NONE, new java.util.SplittableRandom(7));

  public SpanIds ids(Request request) {
    return stage.ids(request);
  }
}
