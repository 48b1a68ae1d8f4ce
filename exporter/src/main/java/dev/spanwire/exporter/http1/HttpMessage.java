package dev.spanwire.exporter.http1;

import java.util.List;

/**
 * One HTTP/1 request or response as parsed from a captured stream. Times are kernel monotonic
 * nanoseconds of the syscalls that carried the bytes: {@code startNanos} the first byte,
 * {@code headNanos} the end of the header block, {@code endNanos} the last byte.
 *
 * @param request true for a request, false for a response
 * @param method request method (requests), e.g. {@code GET}
 * @param target request target as sent, e.g. {@code /search?q=1} (requests)
 * @param statusCode response status (responses), 0 for requests
 * @param statusText response reason phrase (responses), possibly empty
 * @param flavor protocol version, {@code 1.0} or {@code 1.1}
 * @param framing how the body is delimited
 * @param contentLength the Content-Length header value, or -1 when absent
 * @param bodyBytes body bytes seen (decoded chunk data for chunked bodies)
 * @param headerCount header lines in the header block
 * @param host the Host header, or null
 * @param userAgent the User-Agent header, or null
 * @param xForwardedFor the X-Forwarded-For header, or null
 * @param xAppscope the X-AppScope header, or null
 * @param traceparent the W3C traceparent header, or null
 * @param tracestate the W3C tracestate header, or null
 * @param headerLines every header as a {@code Name: value} line, when the parser keeps them
 * @param body the first body bytes when body capture is on, else null
 * @param bodyTruncated whether the body was longer than what {@code body} holds
 * @param connectionClose whether the message says {@code Connection: close}
 * @param truncated whether part of the message was not captured, so its end is not exact
 * @param startPosition stream position of the first byte
 */
public record HttpMessage(
    boolean request,
    String method,
    String target,
    int statusCode,
    String statusText,
    String flavor,
    Framing framing,
    long contentLength,
    long bodyBytes,
    int headerCount,
    String host,
    String userAgent,
    String xForwardedFor,
    String xAppscope,
    String traceparent,
    String tracestate,
    List<String> headerLines,
    byte[] body,
    boolean bodyTruncated,
    boolean connectionClose,
    boolean truncated,
    long startPosition,
    long startNanos,
    long headNanos,
    long endNanos) {

  /** How a message body is delimited. */
  public enum Framing {
    /** No body. */
    NONE,
    /** Content-Length bytes. */
    LENGTH,
    /** Transfer-Encoding: chunked. */
    CHUNKED,
    /** Until the connection closes (responses without a length). */
    UNTIL_CLOSE
  }

  /**
   * This message without what its headers and body say: no host, user agent, forwarding headers,
   * header lines or body bytes. The start line, sizes, framing and trace context stay.
   */
  public HttpMessage withoutHeadersAndBody() {
    return new HttpMessage(request, method, target, statusCode, statusText, flavor, framing, contentLength, bodyBytes,
        headerCount, null, null, null, null, traceparent, tracestate, List.of(), null, false, connectionClose, truncated,
        startPosition, startNanos, headNanos, endNanos);
  }

  /** This message with another target and header lines (redaction). */
  public HttpMessage withTargetAndHeaderLines(String newTarget, List<String> newHeaderLines) {
    return new HttpMessage(request, method, newTarget, statusCode, statusText, flavor, framing, contentLength, bodyBytes,
        headerCount, host, userAgent, xForwardedFor, xAppscope, traceparent, tracestate, newHeaderLines, body,
        bodyTruncated, connectionClose, truncated, startPosition, startNanos, headNanos, endNanos);
  }

  /** This message with other captured body bytes (redaction); the truncation mark stays. */
  public HttpMessage withBody(byte[] newBody) {
    return new HttpMessage(request, method, target, statusCode, statusText, flavor, framing, contentLength, bodyBytes,
        headerCount, host, userAgent, xForwardedFor, xAppscope, traceparent, tracestate, headerLines, newBody,
        bodyTruncated, connectionClose, truncated, startPosition, startNanos, headNanos, endNanos);
  }
}
