package dev.spanwire.exporter.protocol.http1;

import dev.spanwire.exporter.exchange.Body;
import dev.spanwire.exporter.exchange.Headers;
import dev.spanwire.exporter.exchange.Request;
import dev.spanwire.exporter.exchange.Response;
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
 * @param headers the header fields kept (the parser's selection)
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
    Headers headers,
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

  public String host() {
    return headers.get("host");
  }

  public String userAgent() {
    return headers.get("user-agent");
  }

  public String xForwardedFor() {
    return headers.joined("x-forwarded-for", ", ");
  }

  public String xAppscope() {
    return headers.get("x-appscope");
  }

  public String traceparent() {
    return headers.get("traceparent");
  }

  public String tracestate() {
    return headers.joined("tracestate", ",");
  }

  /** Every kept field as a {@code Name: value} line. */
  public List<String> headerLines() {
    return headers.lines();
  }

  /** The body, protocol-neutral. */
  public Body toBody() {
    return new Body(contentLength, bodyBytes, framing != Framing.NONE, body, bodyTruncated);
  }

  /** This request, protocol-neutral (HTTP/1 framing stays here). */
  public Request toRequest() {
    return new Request(method, target, host(), headers, toBody(), startNanos, headNanos, endNanos, truncated);
  }

  /** This response, protocol-neutral. */
  public Response toResponse() {
    return new Response(statusCode, statusText, flavor, headers, toBody(), startNanos, headNanos, endNanos, truncated);
  }
}
