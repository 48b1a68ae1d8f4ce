package dev.spanwire.exporter.exchange;

/**
 * A TLS connection whose plaintext no hooked library showed (Go's crypto/tls, Java's JSSE, GnuTLS,
 * NSS, or a library not found yet): what can be said without its bytes, reported once, at its end.
 *
 * @param connection the connection (scheme https)
 * @param startNanos kernel time of its first bytes
 * @param endNanos kernel time of its end
 * @param bytesSent ciphertext bytes the traced process wrote
 * @param bytesReceived ciphertext bytes it read
 */
public record OpaqueConnection(
    ConnectionInfo connection, long startNanos, long endNanos, long bytesSent, long bytesReceived) {

  public long durationNanos() {
    return Math.max(0, endNanos - startNanos);
  }
}
