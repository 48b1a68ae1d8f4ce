package dev.spanwire.exporter.output;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.testing.Exchanges;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class AsyncSinkTest {
  private static Exchange exchange(int i) {
    return Exchanges.exchange(Exchanges.process(1, "app", null), Role.SERVER, i,
        "GET /" + i + " HTTP/1.1\nHost: h\n\n", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 1000, 1000);
  }

  @Test
  void closeDeliversEverythingQueuedInOrder() {
    List<String> delivered = new CopyOnWriteArrayList<>();
    AsyncSink sink = new AsyncSink("test", e -> delivered.add(e.request().target()), 100);
    for (int i = 0; i < 50; i++) {
      sink.onExchange(exchange(i));
    }
    sink.close();
    assertThat(delivered).hasSize(50).startsWith("/0", "/1").endsWith("/49");
    assertThat(sink.dropped()).isZero();
  }

  @Test
  void fullQueueDropsAndCountsAndAStuckOutputCannotHangClose() throws InterruptedException {
    CountDownLatch stuck = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    ExchangeSink stdoutNobodyReads = new ExchangeSink() {
      @Override
      public void onExchange(Exchange exchange) {
        entered.countDown();
        try {
          stuck.await(); // a write to a pipe whose reader stopped reading
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    };
    AsyncSink sink = new AsyncSink("test", stdoutNobodyReads, 4, Duration.ofMillis(200));
    sink.onExchange(exchange(0));
    entered.await(); // the worker holds item 0
    for (int i = 1; i <= 10; i++) {
      sink.onExchange(exchange(i)); // 4 are queued, 6 find the queue full
    }
    assertThat(sink.dropped()).isEqualTo(6);
    assertTimeoutPreemptively(Duration.ofSeconds(10), sink::close);
    assertThat(sink.dropped()).as("the 4 queued behind the stuck write").isEqualTo(10);
    sink.onExchange(exchange(11));
    assertThat(sink.dropped()).as("after close").isEqualTo(11);
    stuck.countDown();
  }
}
