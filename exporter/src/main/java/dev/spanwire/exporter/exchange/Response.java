package dev.spanwire.exporter.exchange;

/**
 * A final response as the traced process saw it, whatever the protocol. Times are kernel
 * monotonic nanoseconds.
 *
 * @param statusCode the status, e.g. 200
 * @param statusText the reason phrase (HTTP/1), possibly empty, or null
 * @param version the protocol version the response was written in (an HTTP/1.0 server answers
 *     an HTTP/1.1 request in 1.0), as AppScope's {@code http_flavor} writes it
 * @param headers the header fields kept
 * @param body what the body was
 * @param startNanos when its first byte moved
 * @param headNanos when its header block was complete
 * @param endNanos when its last byte moved
 * @param truncated part of it was not captured (or it was cut short), so its end is not exact
 */
public record Response(
    int statusCode,
    String statusText,
    String version,
    Headers headers,
    Body body,
    long startNanos,
    long headNanos,
    long endNanos,
    boolean truncated) {

  /** Without what the headers and body say (response capture off): status and sizes stay. */
  public Response withoutHeadersAndBody() {
    return new Response(statusCode, statusText, version, Headers.NONE, body.withPrefix(null), startNanos, headNanos, endNanos, truncated);
  }

  public Response withHeadersAndBody(Headers newHeaders, Body newBody) {
    return new Response(statusCode, statusText, version, newHeaders, newBody, startNanos, headNanos, endNanos, truncated);
  }
}
