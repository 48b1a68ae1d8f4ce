package dev.spanwire.exporter.exchange;

/**
 * A request as the traced process saw it, whatever the protocol. Times are kernel monotonic
 * nanoseconds of the syscalls that carried the bytes.
 *
 * @param method the method, e.g. {@code GET}
 * @param target path and query as sent, e.g. {@code /search?q=1} (HTTP/2's {@code :path})
 * @param authority the Host header (HTTP/2's {@code :authority}), or null
 * @param headers the header fields kept
 * @param body what the body was
 * @param startNanos when its first byte moved
 * @param headNanos when its header block was complete
 * @param endNanos when its last byte moved
 * @param truncated part of it was not captured, so its end is not exact
 */
public record Request(
    String method,
    String target,
    String authority,
    Headers headers,
    Body body,
    long startNanos,
    long headNanos,
    long endNanos,
    boolean truncated) {

  public String userAgent() {
    return headers.get("user-agent");
  }

  /** The X-Forwarded-For values, repeated fields joined by ", ". */
  public String xForwardedFor() {
    return headers.joined("x-forwarded-for", ", ");
  }

  public String xAppscope() {
    return headers.get("x-appscope");
  }

  public String traceparent() {
    return headers.get("traceparent");
  }

  /** The W3C tracestate, repeated fields joined by ",". */
  public String tracestate() {
    return headers.joined("tracestate", ",");
  }

  /** Without what the headers and body say (request capture off): method, target, sizes and trace context stay. */
  public Request withoutHeadersAndBody() {
    Headers.Builder kept = Headers.builder();
    String traceparent = traceparent();
    if (traceparent != null) {
      kept.add("traceparent", traceparent);
    }
    String tracestate = tracestate();
    if (tracestate != null) {
      kept.add("tracestate", tracestate);
    }
    return new Request(method, target, null, kept.build(), body.withPrefix(null), startNanos, headNanos, endNanos, truncated);
  }

  public Request withTargetHeadersAndBody(String newTarget, Headers newHeaders, Body newBody) {
    return new Request(method, newTarget, authority, newHeaders, newBody, startNanos, headNanos, endNanos, truncated);
  }
}
