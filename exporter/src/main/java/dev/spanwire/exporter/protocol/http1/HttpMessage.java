package dev.spanwire.exporter.protocol.http1;

import dev.spanwire.exporter.exchange.Headers;
import dev.spanwire.exporter.exchange.Request;
import dev.spanwire.exporter.exchange.Response;
import java.util.List;

/**
 * One HTTP/1 request or response as parsed from a captured stream; it is the exchange's
 * protocol-neutral {@link Request} or {@link Response} as it is (no copy), and keeps HTTP/1's
 * framing for the parser's own use. Times are kernel monotonic
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
 * @param headers the other header fields kept (the parser's selection; every field when it keeps all)
 * @param bodyPrefix the first body bytes when body capture is on, else null
 * @param bodyPrefixCut whether the body was longer than what {@code bodyPrefix} holds
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
    Headers headers,
    byte[] bodyPrefix,
    boolean bodyPrefixCut,
    boolean connectionClose,
    boolean truncated,
    long startPosition,
    long startNanos,
    long headNanos,
    long endNanos)
    implements Request, Response {

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

  /** The Host header: the request's authority. */
  @Override
  public String authority() {
    return host;
  }

  @Override
  public long declaredLength() {
    return contentLength;
  }

  @Override
  public boolean hasBody() {
    return framing != Framing.NONE;
  }

  /** The protocol version, {@code 1.0} or {@code 1.1}. */
  @Override
  public String version() {
    return flavor;
  }

  @Override
  public long bodySize() {
    return contentLength >= 0 ? contentLength : hasBody() ? bodyBytes : -1;
  }

  /** Every kept field as a {@code Name: value} line. */
  public List<String> headerLines() {
    return headers.lines();
  }
}
