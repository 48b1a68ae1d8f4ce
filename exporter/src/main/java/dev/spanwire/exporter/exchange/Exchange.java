package dev.spanwire.exporter.exchange;

import dev.spanwire.bpf.Role;

/**
 * A request and its response on one connection, seen from one traced process, whatever the
 * protocol. The response is null when none came (the connection closed, or the agent stopped).
 * Times are kernel monotonic nanoseconds.
 *
 * @param connection the connection and its process
 * @param tid the thread that handled the request's first bytes
 * @param protocol the protocol, e.g. {@code HTTP}
 * @param version its version as AppScope's {@code http_flavor} writes it: {@code 1.0}, {@code 1.1}, {@code 2.0}
 * @param streamId the stream the exchange used where the protocol has streams (HTTP/2), else -1
 * @param request the request
 * @param response the final response, or null
 * @param ids its place in a trace, decided at pairing (null until then)
 */
public record Exchange(
    ConnectionInfo connection,
    int tid,
    String protocol,
    String version,
    long streamId,
    Request request,
    Response response,
    SpanIds ids) {

  public Role role() {
    return connection.role();
  }

  /** When the first request byte moved: the span's start. */
  public long startNanos() {
    return request.startNanos();
  }

  /** When the last response byte moved (the last request byte without response): the span's end. */
  public long endNanos() {
    return response == null ? request.endNanos() : Math.max(response.endNanos(), request.endNanos());
  }

  /**
   * AppScope's duration: from the request's header block to the response's, in nanoseconds;
   * -1 without response.
   */
  public long durationNanos() {
    return response == null ? -1 : Math.max(0, response.headNanos() - request.headNanos());
  }

  /** The status code, or 0 without response. */
  public int statusCode() {
    return response == null ? 0 : response.statusCode();
  }

  /** The same exchange in another place in a trace (linked after it ended). */
  public Exchange withIds(SpanIds newIds) {
    return new Exchange(connection, tid, protocol, version, streamId, request, response, newIds);
  }

  public Exchange withMessages(Request newRequest, Response newResponse) {
    return new Exchange(connection, tid, protocol, version, streamId, newRequest, newResponse, ids);
  }
}
