package dev.spanwire.exporter.testing;

import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.Request;
import java.util.ArrayList;
import java.util.List;

/** Keeps everything a live pipeline reports; the pipeline thread writes, tests read snapshots. */
public final class ExchangeRecorder implements ExchangeSink {
  private final List<Exchange> exchanges = new ArrayList<>();
  private final List<Request> requests = new ArrayList<>();

  @Override
  public synchronized void onRequest(ConnectionInfo connection, String version, Request request) {
    requests.add(request);
  }

  @Override
  public boolean takesRequests() {
    return true;
  }

  @Override
  public synchronized void onExchange(Exchange exchange) {
    exchanges.add(exchange);
  }

  public synchronized List<Exchange> exchanges() {
    return List.copyOf(exchanges);
  }

  /** Exchanges reported by process {@code pid}. */
  public List<Exchange> of(long pid) {
    return exchanges().stream().filter(e -> e.connection().process().pid() == pid).toList();
  }

  /** Exchanges on connections whose server end is {@code port}. */
  public List<Exchange> toPort(int port) {
    return exchanges().stream().filter(e -> e.connection().server().getPort() == port).toList();
  }
}
