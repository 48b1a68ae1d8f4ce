package dev.spanwire.exporter.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Both bounds, with sizes given as literals (the sizer here is the item itself). */
class HandOffQueueTest {
  private final HandOffQueue<Integer> queue = new HandOffQueue<>(3, 100, Integer::longValue);

  @Test
  void itemsAreRefusedPastEitherBoundAndTheirBytesGivenBackWhenTaken() throws InterruptedException {
    assertThat(queue.offer(60)).isTrue();
    assertThat(queue.offer(50)).as("110 bytes").isFalse();
    assertThat(queue.offer(40)).as("exactly 100").isTrue();
    assertThat(queue.offer(0)).isTrue();
    assertThat(queue.offer(0)).as("a fourth item").isFalse();
    assertThat(queue.size()).isEqualTo(3);
    assertThat(queue.poll()).isEqualTo(60);
    assertThat(queue.offer(60)).as("60 given back").isTrue();
    assertThat(queue.offer(1)).as("count bound again").isFalse();
    assertThat(queue.poll(1, TimeUnit.MILLISECONDS)).isEqualTo(40);
    assertThat(queue.clear()).isEqualTo(2);
    assertThat(queue.isEmpty()).isTrue();
    assertThat(queue.offer(100)).as("all 100 given back by clear").isTrue();
  }

  @Test
  void anItemLargerThanTheByteBoundIsRefusedEvenWhenEmpty() {
    assertThat(queue.offer(101)).isFalse();
    assertThat(queue.isEmpty()).isTrue();
    assertThat(queue.offer(100)).isTrue();
  }

  @Test
  void anExchangesHeldBytesGrowWithItsBodyByItsLength() {
    Exchange small = dev.spanwire.exporter.testing.Exchanges.exchange(
        dev.spanwire.exporter.testing.Exchanges.process(1, "app", null), dev.spanwire.bpf.Role.SERVER, 1,
        "GET / HTTP/1.1\nHost: h\n\n", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 1000, 1000);
    Exchange big = small.withMessages(small.request(), small.response().with(small.response().headers(), new byte[1 << 20]));
    assertThat(HandOffQueue.heldBytes(big) - HandOffQueue.heldBytes(small)).isEqualTo((1 << 20) + 16);
    assertThat(HandOffQueue.heldBytes("not an exchange")).isEqualTo(64);
  }
}
