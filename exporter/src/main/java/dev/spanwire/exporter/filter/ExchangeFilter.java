package dev.spanwire.exporter.filter;

import dev.spanwire.exporter.exchange.BodyText;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.Headers;
import dev.spanwire.exporter.exchange.Request;
import dev.spanwire.exporter.exchange.Response;
import java.util.ArrayList;
import java.util.List;

/**
 * The filters between the pipeline and what users see (table, events, spans): exchanges faster
 * than the minimum latency are dropped, request or response details are stripped when their
 * capture is off, and secrets are redacted. The metrics are fed before this stage, so they stay
 * complete.
 *
 * <p>With a minimum latency, a request's event can only be told apart once its response came:
 * request events are then delivered with their exchange, just before it. Runs on the pipeline
 * thread.
 */
public final class ExchangeFilter implements ExchangeSink {
  private final ExchangeSink next;
  private final FilterSettings settings;
  private final long minLatencyNanos;
  private final boolean requestEvents;
  private final java.util.concurrent.atomic.AtomicLong belowMinLatency = new java.util.concurrent.atomic.AtomicLong();

  public ExchangeFilter(ExchangeSink next, FilterSettings settings) {
    this.next = next;
    this.settings = settings;
    this.minLatencyNanos = settings.minLatency().toNanos();
    this.requestEvents = settings.captureRequest() && next.takesRequests();
  }

  /** Exchanges left out for being faster than the minimum latency. */
  public long belowMinLatency() {
    return belowMinLatency.get();
  }

  @Override
  public void onRequest(ConnectionInfo connection, String version, Request request) {
    if (requestEvents && minLatencyNanos == 0) {
      next.onRequest(connection, version, request(request));
    }
  }

  @Override
  public boolean takesRequests() {
    return requestEvents;
  }

  @Override
  public void onDetected(ConnectionInfo connection, int fd, long timestampNanos) {
    next.onDetected(connection, fd, timestampNanos);
  }

  @Override
  public void onOpaque(dev.spanwire.exporter.exchange.OpaqueConnection connection) {
    if (minLatencyNanos == 0 || connection.durationNanos() >= minLatencyNanos) {
      next.onOpaque(connection);
    }
  }

  @Override
  public void onExchange(Exchange exchange) {
    if (minLatencyNanos > 0 && exchange.response() != null && exchange.durationNanos() < minLatencyNanos) {
      belowMinLatency.incrementAndGet();
      return;
    }
    Request request = request(exchange.request());
    Response response = exchange.response() == null ? null : response(exchange.response());
    if (minLatencyNanos > 0 && requestEvents) {
      next.onRequest(exchange.connection(), exchange.version(), request);
    }
    next.onExchange(request == exchange.request() && response == exchange.response()
        ? exchange
        : exchange.withMessages(request, response));
  }

  private Request request(Request request) {
    Redaction redaction = settings.redaction();
    if (!settings.captureRequest()) {
      Headers.Builder trace = Headers.builder();
      if (request.traceparent() != null) {
        trace.add("traceparent", request.traceparent());
      }
      if (request.tracestate() != null) {
        trace.add("tracestate", request.tracestate());
      }
      // the start line, sizes and trace context stay; what headers and body say goes
      return new Request.Simple(request.method(), redaction.target(request.target()), null, null, trace.build(),
          request.declaredLength(), request.bodyBytes(), request.hasBody(), null, false, request.startNanos(),
          request.headNanos(), request.endNanos(), request.truncated());
    }
    String target = redaction.target(request.target());
    Headers headers = redactHeaders(request.headers(), redaction);
    byte[] body = redactBody(request.bodyPrefix(), request.bodyPrefixCut(), redaction);
    return target == request.target() && headers == request.headers() && body == request.bodyPrefix()
        ? request
        : request.with(target, headers, body);
  }

  private Response response(Response response) {
    if (!settings.captureResponse()) {
      return response.with(Headers.NONE, null);
    }
    Redaction redaction = settings.redaction();
    Headers headers = redactHeaders(response.headers(), redaction);
    byte[] body = redactBody(response.bodyPrefix(), response.bodyPrefixCut(), redaction);
    return headers == response.headers() && body == response.bodyPrefix() ? response : response.with(headers, body);
  }

  /** The same fields when nothing needs replacing (the common case costs a scan, no copy). */
  private static Headers redactHeaders(Headers headers, Redaction redaction) {
    Headers redacted = headers;
    for (int i = 0; i < headers.size(); i++) {
      if (redaction.redactsHeader(headers.name(i))) {
        redacted = redacted.withValue(i, redaction.replacement());
      }
    }
    return redacted;
  }

  /** A captured text body with credential-like JSON members and form fields replaced. */
  private static byte[] redactBody(byte[] prefix, boolean cut, Redaction redaction) {
    if (prefix == null) {
      return null;
    }
    String text = BodyText.utf8(prefix, cut);
    if (text == null) {
      return prefix;
    }
    String redacted = redaction.body(text);
    return redacted == text ? prefix : redacted.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  @Override
  public void flush() {
    next.flush();
  }

  @Override
  public void close() {
    next.close();
  }

  @Override
  public String toString() {
    return "ExchangeFilter{" + settings + " -> " + next + "}";
  }
}
