package dev.spanwire.exporter.output;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.spanwire.bpf.Role;
import dev.spanwire.bpf.testing.Await;
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
    AsyncSink sink = new AsyncSink("test", stdoutNobodyReads, 4, AsyncSink.DEFAULT_MAX_BYTES, Duration.ofMillis(200));
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

  @Test
  void exchangesHoldingCapturedBodiesAreBoundedByTheHeapTheyHoldAndCountedWhenDropped() throws InterruptedException {
    CountDownLatch stuck = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    List<Exchange> delivered = new CopyOnWriteArrayList<>();
    ExchangeSink slowReader = exchange -> {
      entered.countDown();
      try {
        stuck.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      delivered.add(exchange);
    };
    AsyncSink sink = new AsyncSink("test", slowReader, 8192, 8L << 20, Duration.ofSeconds(10));
    byte[] body = new byte[1 << 20];
    sink.onExchange(withBody(exchange(0), body));
    entered.await(); // the reader holds the first, off the queue
    for (int i = 1; i <= 20; i++) {
      sink.onExchange(withBody(exchange(i), body));
    }
    // 8 MiB queued at most: seven 1 MiB bodies and their heads fit, an eighth would not
    assertThat(sink.dropped()).isEqualTo(13);
    stuck.countDown();
    Await.until("the queue drained", Duration.ofSeconds(10), () -> delivered.size() == 8);
    sink.onExchange(withBody(exchange(21), body)); // fits again only if the drained bytes were given back
    sink.close();
    assertThat(delivered).extracting(e -> e.request().target())
        .containsExactly("/0", "/1", "/2", "/3", "/4", "/5", "/6", "/7", "/21");
    assertThat(delivered.get(7).response().bodyPrefix()).hasSize(1 << 20);
    assertThat(sink.dropped()).isEqualTo(13);
  }

  @Test
  void requestsTakeNoRoomInTheQueueOfAnOutputThatDoesNotShowThem() throws InterruptedException {
    CountDownLatch stuck = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    List<String> delivered = new CopyOnWriteArrayList<>();
    ExchangeSink table = exchange -> { // shows exchanges only, as the live table does
      entered.countDown();
      try {
        stuck.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      delivered.add(exchange.request().target());
    };
    AsyncSink sink = new AsyncSink("test", table, 4, AsyncSink.DEFAULT_MAX_BYTES, Duration.ofSeconds(10));
    assertThat(sink.takesRequests()).isFalse();
    sink.onExchange(exchange(0));
    entered.await();
    for (int i = 1; i <= 4; i++) {
      Exchange e = exchange(i);
      sink.onRequest(e.connection(), e.version(), e.request());
      sink.onExchange(e);
    }
    assertThat(sink.dropped()).isZero();
    stuck.countDown();
    sink.close();
    assertThat(delivered).containsExactly("/0", "/1", "/2", "/3", "/4");
  }

  @Test
  void requestsAreQueuedInOrderForAnOutputThatShowsThemAndCountedWhenTheQueueIsFull() throws InterruptedException {
    CountDownLatch stuck = new CountDownLatch(1);
    CountDownLatch entered = new CountDownLatch(1);
    List<String> delivered = new CopyOnWriteArrayList<>();
    ExchangeSink events = new ExchangeSink() {
      @Override
      public void onRequest(dev.spanwire.exporter.exchange.ConnectionInfo connection, String version,
          dev.spanwire.exporter.exchange.Request request) {
        delivered.add("req " + request.target());
      }

      @Override
      public boolean takesRequests() {
        return true;
      }

      @Override
      public void onExchange(Exchange exchange) {
        entered.countDown();
        try {
          stuck.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        delivered.add("exchange " + exchange.request().target());
      }
    };
    AsyncSink sink = new AsyncSink("test", events, 4, AsyncSink.DEFAULT_MAX_BYTES, Duration.ofSeconds(10));
    assertThat(sink.takesRequests()).isTrue();
    sink.onExchange(exchange(0));
    entered.await();
    for (int i = 1; i <= 3; i++) {
      Exchange e = exchange(i);
      sink.onRequest(e.connection(), e.version(), e.request());
      sink.onExchange(e);
    }
    assertThat(sink.dropped()).as("req 1, exchange 1, req 2, exchange 2 queued; the rest found it full").isEqualTo(2);
    stuck.countDown();
    sink.close();
    assertThat(delivered).containsExactly("exchange /0", "req /1", "exchange /1", "req /2", "exchange /2");
  }

  private static Exchange withBody(Exchange e, byte[] body) {
    return e.withMessages(e.request(), e.response().with(e.response().headers(), body));
  }
}
