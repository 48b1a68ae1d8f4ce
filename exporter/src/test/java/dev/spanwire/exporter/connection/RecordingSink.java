package dev.spanwire.exporter.connection;

import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.Request;
import java.util.ArrayList;
import java.util.List;

/** Keeps what the pipeline reports, for assertions. */
class RecordingSink implements ExchangeSink {
  final List<Request> requests = new ArrayList<>();
  final List<Exchange> exchanges = new ArrayList<>();

  @Override
  public void onRequest(ConnectionInfo connection, String version, Request request) {
    requests.add(request);
  }

  @Override
  public boolean takesRequests() {
    return true;
  }

  @Override
  public void onExchange(Exchange exchange) {
    exchanges.add(exchange);
  }

  /** "METHOD target -> status" per exchange. */
  List<String> summary() {
    return exchanges.stream()
        .map(e -> e.request().method() + " " + e.request().target() + " -> " + (e.response() == null ? "none" : e.response().statusCode()))
        .toList();
  }
}
