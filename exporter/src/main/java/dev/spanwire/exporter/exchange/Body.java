package dev.spanwire.exporter.exchange;

/**
 * What a message's body was, protocol-neutral.
 *
 * @param declaredLength the length the message declared (Content-Length), or -1
 * @param bytes body bytes that moved (decoded chunk data for chunked HTTP/1 bodies)
 * @param present whether the message had a body at all (a 204 or a HEAD answer has none)
 * @param prefix the first body bytes when body capture is on, else null
 * @param prefixCut whether the body was longer than {@code prefix}
 */
public record Body(long declaredLength, long bytes, boolean present, byte[] prefix, boolean prefixCut) {
  /** No body. */
  public static final Body NONE = new Body(-1, 0, false, null, false);

  /** The size to report: the declared length, else the bytes seen when there was a body; -1 for none. */
  public long size() {
    if (declaredLength >= 0) {
      return declaredLength;
    }
    return present ? bytes : -1;
  }

  /** This body with another captured prefix (redaction). */
  public Body withPrefix(byte[] newPrefix) {
    return new Body(declaredLength, bytes, present, newPrefix, prefixCut);
  }
}
