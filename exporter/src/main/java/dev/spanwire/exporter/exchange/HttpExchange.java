package dev.spanwire.exporter.exchange;

import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.http1.HttpMessage;

/**
 * A request and its response on one connection, seen from one traced process. The response is
 * null when the connection closed before one came. Times are kernel monotonic nanoseconds.
 *
 * @param connection the connection and its process
 * @param tid the thread that handled the request's first bytes
 * @param request the request
 * @param response the final response, or null
 */
public record HttpExchange(ConnectionInfo connection, int tid, HttpMessage request, HttpMessage response) {

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
}
