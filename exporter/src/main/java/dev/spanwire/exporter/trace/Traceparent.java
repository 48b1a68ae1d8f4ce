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
    String v = value.strip();
    if (v.length() < 55 || v.charAt(2) != '-' || v.charAt(35) != '-' || v.charAt(52) != '-') {
      return null;
    }
    String version = v.substring(0, 2);
    if (!lowerHex(version) || version.equals("ff")) {
      return null;
    }
    if (version.equals("00") ? v.length() != 55 : v.length() > 55 && v.charAt(55) != '-') {
      return null;
    }
    String traceId = v.substring(3, 35);
    String spanId = v.substring(36, 52);
    String flags = v.substring(53, 55);
    if (!lowerHex(traceId) || !lowerHex(spanId) || !lowerHex(flags)) {
      return null;
    }
    long high = Long.parseUnsignedLong(traceId, 0, 16, 16);
    long low = Long.parseUnsignedLong(traceId, 16, 32, 16);
    long span = Long.parseUnsignedLong(spanId, 16);
    if ((high == 0 && low == 0) || span == 0) {
      return null;
    }
    boolean sampled = (Integer.parseInt(flags, 16) & 1) != 0;
    return new SpanIds(high, low, span, 0, true, sampled, null);
  }

  private static boolean lowerHex(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }
}
