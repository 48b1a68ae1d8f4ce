package dev.spanwire.exporter.filter;

import dev.spanwire.exporter.exchange.BodyText;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.HttpExchange;
import dev.spanwire.exporter.http1.HttpMessage;
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
  private volatile long belowMinLatency;

  public ExchangeFilter(ExchangeSink next, FilterSettings settings) {
    this.next = next;
    this.settings = settings;
    this.minLatencyNanos = settings.minLatency().toNanos();
  }

  /** Exchanges left out for being faster than the minimum latency. */
  public long belowMinLatency() {
    return belowMinLatency;
  }

  @Override
  public void onRequest(ConnectionInfo connection, HttpMessage request) {
    if (settings.captureRequest() && minLatencyNanos == 0) {
      next.onRequest(connection, request(request));
    }
  }

  @Override
  public void onDetected(ConnectionInfo connection, int fd, long timestampNanos) {
    next.onDetected(connection, fd, timestampNanos);
  }

  @Override
  public void onExchange(HttpExchange exchange) {
    if (minLatencyNanos > 0 && exchange.response() != null && exchange.durationNanos() < minLatencyNanos) {
      belowMinLatency++;
      return;
    }
    HttpMessage request = request(exchange.request());
    HttpMessage response = exchange.response() == null ? null : response(exchange.response());
    if (minLatencyNanos > 0 && settings.captureRequest()) {
      next.onRequest(exchange.connection(), request);
    }
    next.onExchange(request == exchange.request() && response == exchange.response()
        ? exchange
        : new HttpExchange(exchange.connection(), exchange.tid(), request, response));
  }

  private HttpMessage request(HttpMessage message) {
    return redact(settings.captureRequest() ? message : message.withoutHeadersAndBody());
  }

  private HttpMessage response(HttpMessage message) {
    return redact(settings.captureResponse() ? message : message.withoutHeadersAndBody());
  }

  /** The same message when nothing needs replacing (the common case costs a scan, no copy). */
  private HttpMessage redact(HttpMessage message) {
    Redaction redaction = settings.redaction();
    String target = redaction.target(message.target());
    List<String> lines = message.headerLines();
    List<String> redactedLines = lines;
    for (int i = 0; i < lines.size(); i++) {
      String line = redaction.headerLine(lines.get(i));
      if (!line.equals(lines.get(i))) {
        if (redactedLines == lines) {
          redactedLines = new ArrayList<>(lines);
        }
        redactedLines.set(i, line);
      }
    }
    HttpMessage redacted = target == message.target() && redactedLines == lines
        ? message
        : message.withTargetAndHeaderLines(target, redactedLines == lines ? lines : List.copyOf(redactedLines));
    return redacted.body() == null ? redacted : redactBody(redacted, redaction);
  }

  /** A captured text body with credential-like JSON members and form fields replaced. */
  private static HttpMessage redactBody(HttpMessage message, Redaction redaction) {
    String text = BodyText.utf8(message.body(), message.bodyTruncated());
    if (text == null) {
      return message;
    }
    String redacted = redaction.body(text);
    return redacted == text ? message : message.withBody(redacted.getBytes(java.nio.charset.StandardCharsets.UTF_8));
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
