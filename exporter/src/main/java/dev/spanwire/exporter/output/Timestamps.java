package dev.spanwire.exporter.output;

import dev.spanwire.bpf.KernelClock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** Kernel timestamps as text. */
final class Timestamps {
  private static final DateTimeFormatter SECONDS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss").withZone(ZoneOffset.UTC);

  private Timestamps() {}

  /** RFC 3339 in UTC with nanoseconds, always 9 digits: {@code 2026-11-22T11:03:31.786422912Z}. */
  static String rfc3339(KernelClock clock, long monotonicNanos) {
    Instant instant = clock.toInstant(monotonicNanos);
    StringBuilder out = new StringBuilder(30);
    SECONDS.formatTo(instant, out);
    String nanos = Integer.toString(instant.getNano());
    out.append('.');
    for (int i = nanos.length(); i < 9; i++) {
      out.append('0');
    }
    return out.append(nanos).append('Z').toString();
  }

  /** Seconds since the epoch with microseconds, as AppScope's {@code _time}. */
  static String epochSeconds(KernelClock clock, long monotonicNanos) {
    long epochNanos = clock.toEpochNanos(monotonicNanos);
    long micros = Math.floorDiv(epochNanos, 1000);
    String fraction = Long.toString(Math.floorMod(micros, 1_000_000));
    return Math.floorDiv(micros, 1_000_000) + "." + "0".repeat(6 - fraction.length()) + fraction;
  }

  /** Milliseconds with three decimals. */
  static String millis(long nanos) {
    long micros = Math.round(nanos / 1000.0);
    String fraction = Long.toString(micros % 1000);
    return micros / 1000 + "." + "0".repeat(3 - fraction.length()) + fraction;
  }
}
