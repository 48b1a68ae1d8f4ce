package dev.spanwire.exporter.pipeline;

import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.HttpExchange;
import dev.spanwire.exporter.http1.HttpMessage;
import java.util.ArrayList;
import java.util.List;

/** Keeps what the pipeline reports, for assertions. */
class RecordingSink implements ExchangeSink {
  final List<HttpMessage> requests = new ArrayList<>();
  final List<HttpExchange> exchanges = new ArrayList<>();

  @Override
  public void onRequest(ConnectionInfo connection, HttpMessage request) {
    requests.add(request);
  }

  @Override
  public void onExchange(HttpExchange exchange) {
    exchanges.add(exchange);
  }

  /** "METHOD target -> status" per exchange. */
  List<String> summary() {
    return exchanges.stream()
        .map(e -> e.request().method() + " " + e.request().target() + " -> " + (e.response() == null ? "none" : e.response().statusCode()))
        .toList();
  }
}
