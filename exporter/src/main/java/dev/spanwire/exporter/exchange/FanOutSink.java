package dev.spanwire.exporter.exchange;

import java.util.List;

/** Hands everything to several sinks in turn; closes them in reverse order. */
public final class FanOutSink implements ExchangeSink {
  private final List<ExchangeSink> sinks;

  public FanOutSink(List<ExchangeSink> sinks) {
    this.sinks = List.copyOf(sinks);
  }

  @Override
  public void onRequest(ConnectionInfo connection, String version, Request request) {
    for (ExchangeSink sink : sinks) {
      sink.onRequest(connection, version, request);
    }
  }

  @Override
  public boolean takesRequests() {
    return sinks.stream().anyMatch(ExchangeSink::takesRequests);
  }

  @Override
  public void onDetected(ConnectionInfo connection, int fd, long timestampNanos) {
    for (ExchangeSink sink : sinks) {
      sink.onDetected(connection, fd, timestampNanos);
    }
  }

  @Override
  public void onOpaque(OpaqueConnection connection) {
    for (ExchangeSink sink : sinks) {
      sink.onOpaque(connection);
    }
  }

  @Override
  public void onExchange(Exchange exchange) {
    for (ExchangeSink sink : sinks) {
      sink.onExchange(exchange);
    }
  }

  @Override
  public void flush() {
    sinks.forEach(ExchangeSink::flush);
  }

  @Override
  public void close() {
    for (int i = sinks.size() - 1; i >= 0; i--) {
      sinks.get(i).close();
    }
  }

  @Override
  public String toString() {
    return "FanOutSink" + sinks;
  }
}
