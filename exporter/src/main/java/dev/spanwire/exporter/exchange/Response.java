package dev.spanwire.exporter.exchange;

/**
 * A final response as the traced process saw it, whatever the protocol: each protocol's message
 * type implements it, and {@link Simple} holds one a stage changed. Times are kernel monotonic
 * nanoseconds.
 */
public interface Response {
  /** The status, e.g. 200. */
  int statusCode();

  /** The reason phrase (HTTP/1), possibly empty, or null. */
  String statusText();

  /**
   * The protocol version it was written in (an HTTP/1.0 server answers an HTTP/1.1 request in
   * 1.0), as AppScope's {@code http_flavor} writes it.
   */
  String version();

  /** The header fields kept (all of them when watch rules ask). */
  Headers headers();

  /** The body length the response declared (Content-Length), or -1. */
  long declaredLength();

  /** Body bytes that moved. */
  long bodyBytes();

  /** Whether it had a body at all (a 204 or a HEAD answer has none). */
  boolean hasBody();

  /** The first body bytes when body capture is on, else null. */
  byte[] bodyPrefix();

  /** Whether the body was longer than {@link #bodyPrefix}. */
  boolean bodyPrefixCut();

  long startNanos();

  long headNanos();

  long endNanos();

  /** Whether part of it was not captured (or it was cut short), so its end is not exact. */
  boolean truncated();

  /** The size to report: the declared length, else the bytes seen when there was a body; -1 for none. */
  default long bodySize() {
    return declaredLength() >= 0 ? declaredLength() : hasBody() ? bodyBytes() : -1;
  }

  /** This response with other headers and body prefix (redaction). */
  default Response with(Headers newHeaders, byte[] newBodyPrefix) {
    return new Simple(statusCode(), statusText(), version(), newHeaders, declaredLength(), bodyBytes(), hasBody(),
        newBodyPrefix, newBodyPrefix != null && bodyPrefixCut(), startNanos(), headNanos(), endNanos(), truncated());
  }

  /** A response held as plain values. */
  record Simple(
      int statusCode,
      String statusText,
      String version,
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
      implements Response {}
}
