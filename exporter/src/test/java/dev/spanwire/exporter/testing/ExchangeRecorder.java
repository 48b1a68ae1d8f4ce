package dev.spanwire.exporter.testing;

import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.HttpExchange;
import dev.spanwire.exporter.http1.HttpMessage;
import java.util.ArrayList;
import java.util.List;

/** Keeps everything a live pipeline reports; the pipeline thread writes, tests read snapshots. */
public final class ExchangeRecorder implements ExchangeSink {
  private final List<HttpExchange> exchanges = new ArrayList<>();
  private final List<HttpMessage> requests = new ArrayList<>();

  @Override
  public synchronized void onRequest(ConnectionInfo connection, HttpMessage request) {
    requests.add(request);
  }

  @Override
  public synchronized void onExchange(HttpExchange exchange) {
    exchanges.add(exchange);
  }

  public synchronized List<HttpExchange> exchanges() {
    return List.copyOf(exchanges);
  }

  /** Exchanges reported by process {@code pid}. */
  public List<HttpExchange> of(long pid) {
    return exchanges().stream().filter(e -> e.connection().process().pid() == pid).toList();
  }

  /** Exchanges on connections whose server end is {@code port}. */
  public List<HttpExchange> toPort(int port) {
    return exchanges().stream().filter(e -> e.connection().server().getPort() == port).toList();
  }
}
