package dev.spanwire.exporter.trace;

import dev.spanwire.exporter.exchange.SpanIds;

/** W3C Trace Context {@code traceparent} headers (https://www.w3.org/TR/trace-context/). */
public final class Traceparent {
  private Traceparent() {}

  /**
   * The remote parent a {@code traceparent} value names (its trace id, its span id as
   * {@link SpanIds#spanId}, its sampled flag), or null when the value is absent or invalid:
   * version 00 is exactly {@code 00-<32 hex>-<16 hex>-<2 hex>}; later versions may add fields after
   * a dash; version ff, all-zero ids and upper-case hex are invalid.
   */
  public static SpanIds parse(String value) {
    if (value == null) {
      return null;
    }
    // read in place: this runs on the pipeline thread for every request that carries one
    int from = 0;
    int to = value.length();
    while (from < to && value.charAt(from) <= ' ') {
      from++;
    }
    while (to > from && value.charAt(to - 1) <= ' ') {
      to--;
    }
    int length = to - from;
    if (length < 55 || value.charAt(from + 2) != '-' || value.charAt(from + 35) != '-' || value.charAt(from + 52) != '-') {
      return null;
    }
    long version = hex(value, from, from + 2);
    if (version < 0 || version == 0xff) {
      return null;
    }
    if (version == 0 ? length != 55 : length > 55 && value.charAt(from + 55) != '-') {
      return null;
    }
    long high = hex(value, from + 3, from + 19);
    long low = hex(value, from + 19, from + 35);
    long span = hex(value, from + 36, from + 52);
    long flags = hex(value, from + 53, from + 55);
    if (flags < 0 || !lowerHex(value, from + 3, from + 35) || !lowerHex(value, from + 36, from + 52)) {
      return null;
    }
    if ((high == 0 && low == 0) || span == 0) {
      return null;
    }
    return new SpanIds(high, low, span, 0, true, (flags & 1) != 0, null);
  }

  /**
   * The value of lower-case hex digits {@code s[from, to)}: up to 16 digits, so a 16-digit value
   * may come out negative; use {@link #lowerHex} to check digits. -1 for 1 or 2 digits not hex.
   */
  private static long hex(String s, int from, int to) {
    long value = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (digit < 0) {
        return -1;
      }
      value = value << 4 | digit;
    }
    return value;
  }

  private static boolean lowerHex(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

}
