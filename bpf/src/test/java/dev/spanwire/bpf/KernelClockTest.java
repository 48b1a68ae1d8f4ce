package dev.spanwire.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class KernelClockTest {
  private static final long EPOCH = 1_795_000_000_000_000_000L;

  @Test
  void aSteppedWallClockIsFollowedAtTheNextRecalibration() {
    AtomicLong monotonic = new AtomicLong(5_000_000_000L);
    AtomicLong step = new AtomicLong();
    KernelClock clock = KernelClock.calibrate(() -> EPOCH + monotonic.get() + step.get(), monotonic::get);
    long event = 5_100_000_000L;
    assertThat(clock.toEpochNanos(event)).isEqualTo(EPOCH + event);

    step.set(-3_600_000_000_000L); // NTP steps the wall clock back an hour
    assertThat(clock.toEpochNanos(event)).as("until recalibrated").isEqualTo(EPOCH + event);
    assertThat(clock.recalibrate()).isEqualTo(-3_600_000_000_000L);
    assertThat(clock.toEpochNanos(event)).isEqualTo(EPOCH + event - 3_600_000_000_000L);
    // durations are kernel differences whatever the offset
    assertThat(clock.toEpochNanos(event + 1234) - clock.toEpochNanos(event)).isEqualTo(1234);
  }

  @Test
  void aFixedClockKeepsItsOffset() {
    KernelClock clock = KernelClock.withOffset(42);
    assertThat(clock.recalibrate()).isZero();
    assertThat(clock.toEpochNanos(1)).isEqualTo(43);
  }

  @Test
  void theSystemClocksAgreeWithinAMillisecond() {
    KernelClock clock = KernelClock.calibrate();
    long wall = System.currentTimeMillis() * 1_000_000L;
    assertThat(clock.toEpochNanos(KernelClock.monotonicNanos())).isCloseTo(wall, org.assertj.core.data.Offset.offset(5_000_000L));
    assertThat(Math.abs(clock.recalibrate())).isLessThan(1_000_000L);
  }
}
