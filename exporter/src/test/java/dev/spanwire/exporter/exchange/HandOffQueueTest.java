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
  void aWaitingConsumerWakesWhenTheCountIsReachedNotAtEachItem() throws InterruptedException {
    HandOffQueue<Integer> batch = new HandOffQueue<>(10, 1_000, Integer::longValue);
    Thread consumer = waiting(() -> batch.awaitAtLeast(3, 1_000, TimeUnit.MINUTES.toNanos(1)));
    assertThat(batch.offer(1)).isTrue();
    assertThat(batch.offer(1)).isTrue();
    assertStillWaiting(consumer);
    assertThat(batch.offer(1)).isTrue();
    consumer.join(10_000);
    assertThat(consumer.isAlive()).as("woken by the third item").isFalse();
    assertThat(batch.size()).as("nothing taken").isEqualTo(3);
  }

  @Test
  void aWaitingConsumerWakesWhenTheItemsHoldTheBytesOrOneIsRefused() throws InterruptedException {
    HandOffQueue<Integer> batch = new HandOffQueue<>(2, 1_000, Integer::longValue);
    Thread byBytes = waiting(() -> batch.awaitAtLeast(100, 500, TimeUnit.MINUTES.toNanos(1)));
    assertThat(batch.offer(300)).isTrue();
    assertStillWaiting(byBytes);
    assertThat(batch.offer(300)).isTrue();
    byBytes.join(10_000);
    assertThat(byBytes.isAlive()).as("woken by 600 bytes").isFalse();

    Thread byRefusal = waiting(() -> batch.awaitAtLeast(100, 10_000, TimeUnit.MINUTES.toNanos(1)));
    assertThat(batch.offer(1)).as("a third item past the count bound").isFalse();
    byRefusal.join(10_000);
    assertThat(byRefusal.isAlive()).as("woken by the refusal: the queue is full").isFalse();
  }

  @Test
  void aWaitAlreadySatisfiedDoesNotParkAndOneNeverSatisfiedEndsAtItsTimeout() {
    HandOffQueue<Integer> batch = new HandOffQueue<>(10, 1_000, Integer::longValue);
    assertThat(batch.offer(5)).isTrue();
    long start = System.nanoTime();
    batch.awaitAtLeast(1, 1_000, TimeUnit.MINUTES.toNanos(1));
    assertThat(System.nanoTime() - start).as("returned at once").isLessThan(TimeUnit.SECONDS.toNanos(10));
    start = System.nanoTime();
    batch.awaitAtLeast(2, 1_000, TimeUnit.MILLISECONDS.toNanos(200));
    assertThat(System.nanoTime() - start).as("waited its 200 ms").isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
  }

  private static Thread waiting(Runnable wait) throws InterruptedException {
    Thread consumer = Thread.ofPlatform().daemon().start(wait);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (consumer.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertThat(consumer.getState()).as("parked").isEqualTo(Thread.State.TIMED_WAITING);
    return consumer;
  }

  /** Still parked, after a moment in which a wake-up would have ended it. */
  private static void assertStillWaiting(Thread consumer) throws InterruptedException {
    consumer.join(200);
    assertThat(consumer.isAlive()).as("still waiting").isTrue();
    assertThat(consumer.getState()).isEqualTo(Thread.State.TIMED_WAITING);
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
