package dev.spanwire.exporter.exchange;

/**
 * An exchange's place in a trace, decided when it is paired: its own span id, its trace, its
 * parent (from an incoming {@code traceparent}, or a linked exchange), and whether the trace is
 * sampled. Ids are held as numbers; hex is made only for export.
 *
 * @param traceIdHigh the trace id's first 8 bytes
 * @param traceIdLow the trace id's last 8 bytes
 * @param spanId this exchange's span id
 * @param parentSpanId the parent span's id, or 0 for a root
 * @param remoteParent whether the parent came from outside (a {@code traceparent} header)
 * @param sampled whether the trace is sampled
 * @param traceState the W3C tracestate that came with the parent, or null
 */
public record SpanIds(
    long traceIdHigh, long traceIdLow, long spanId, long parentSpanId, boolean remoteParent, boolean sampled,
    String traceState) {

  public boolean hasParent() {
    return parentSpanId != 0;
  }

  public String traceIdHex() {
    return hex(traceIdHigh) + hex(traceIdLow);
  }

  public String spanIdHex() {
    return hex(spanId);
  }

  public String parentSpanIdHex() {
    return hex(parentSpanId);
  }

  private static String hex(long value) {
    String digits = Long.toHexString(value);
    return "0".repeat(16 - digits.length()) + digits;
  }
}
