package dev.spanwire.exporter.exchange;

/**
 * A request as the traced process saw it, whatever the protocol: each protocol's message type
 * implements it (so pairing makes no copy), and {@link Simple} holds one a stage changed. Times are
 * kernel monotonic nanoseconds of the syscalls that carried the bytes.
 */
public interface Request {
  /** The method, e.g. {@code GET}. */
  String method();

  /** Path and query as sent, e.g. {@code /search?q=1} (HTTP/2's {@code :path}). */
  String target();

  /** The Host header (HTTP/2's {@code :authority}), or null. */
  String authority();

  /** The User-Agent header, or null. */
  String userAgent();

  /**
   * The other header fields kept: those the product reads (X-Forwarded-For, X-AppScope,
   * traceparent, tracestate) and, when watch rules ask, every field (Host and User-Agent too).
   */
  Headers headers();

  /** The body length the request declared (Content-Length), or -1. */
  long declaredLength();

  /** Body bytes that moved (decoded chunk data for chunked HTTP/1 bodies). */
  long bodyBytes();

  /** Whether it had a body at all. */
  boolean hasBody();

  /** The first body bytes when body capture is on, else null. */
  byte[] bodyPrefix();

  /** Whether the body was longer than {@link #bodyPrefix}. */
  boolean bodyPrefixCut();

  /** When its first byte moved. */
  long startNanos();

  /** When its header block was complete. */
  long headNanos();

  /** When its last byte moved. */
  long endNanos();

  /** Whether part of it was not captured, so its end is not exact. */
  boolean truncated();

  /**
   * The stream position of its first byte (its layer's: socket bytes, or TLS plaintext), or -1
   * where the protocol does not say.
   */
  default long startPosition() {
    return -1;
  }

  /** The stream it went on where the protocol has streams (HTTP/2), else -1. */
  default long streamId() {
    return -1;
  }

  /**
   * The HTTP/2 error code of the RST_STREAM (or GOAWAY: REFUSED_STREAM) that ended its stream
   * before its response did, or -1.
   */
  default int streamError() {
    return -1;
  }

  /** The X-Forwarded-For values, repeated fields joined by ", ". */
  default String xForwardedFor() {
    return headers().joined("x-forwarded-for", ", ");
  }

  default String xAppscope() {
    return headers().get("x-appscope");
  }

  /**
   * The traceparent, repeated fields joined by "," as a receiving library does (Trace Context's
   * test suite sends two): the joined value is invalid, so the span starts a trace of its own
   * rather than claiming the first of two parents.
   */
  default String traceparent() {
    return headers().joined("traceparent", ",");
  }

  /** The W3C tracestate, repeated fields joined by ",". */
  default String tracestate() {
    return headers().joined("tracestate", ",");
  }

  /** The size to report: the declared length, else the bytes seen when there was a body; -1 for none. */
  default long bodySize() {
    return declaredLength() >= 0 ? declaredLength() : hasBody() ? bodyBytes() : -1;
  }

  /** This request with another target, headers and body prefix (redaction). */
  default Request with(String newTarget, Headers newHeaders, byte[] newBodyPrefix) {
    return new Simple(method(), newTarget, authority(), userAgent(), newHeaders, declaredLength(), bodyBytes(), hasBody(),
        newBodyPrefix, bodyPrefixCut(), startNanos(), headNanos(), endNanos(), truncated());
  }

  /** A request held as plain values. */
  record Simple(
      String method,
      String target,
      String authority,
      String userAgent,
      Headers headers,
      long declaredLength,
      long bodyBytes,
      boolean hasBody,
      byte[] bodyPrefix,
      boolean bodyPrefixCut,
      long startNanos,
      long headNanos,
      long endNanos,
      boolean truncated)
      implements Request {}
}
