package dev.spanwire.exporter.protocol.http2;

import dev.spanwire.exporter.exchange.Headers;
import dev.spanwire.exporter.exchange.Request;

/**
 * An HTTP/2 request: its values, the stream it went on (AppScope's {@code http_stream}), and the
 * error code that reset the stream, or -1.
 */
record StreamRequest(long streamId, Request.Simple values, int streamError) implements Request {
  @Override
  public String method() {
    return values.method();
  }

  @Override
  public String target() {
    return values.target();
  }

  @Override
  public String authority() {
    return values.authority();
  }

  @Override
  public String userAgent() {
    return values.userAgent();
  }

  @Override
  public Headers headers() {
    return values.headers();
  }

  @Override
  public long declaredLength() {
    return values.declaredLength();
  }

  @Override
  public long bodyBytes() {
    return values.bodyBytes();
  }

  @Override
  public boolean hasBody() {
    return values.hasBody();
  }

  @Override
  public byte[] bodyPrefix() {
    return values.bodyPrefix();
  }

  @Override
  public boolean bodyPrefixCut() {
    return values.bodyPrefixCut();
  }

  @Override
  public long startNanos() {
    return values.startNanos();
  }

  @Override
  public long headNanos() {
    return values.headNanos();
  }

  @Override
  public long endNanos() {
    return values.endNanos();
  }

  @Override
  public boolean truncated() {
    return values.truncated();
  }

  @Override
  public Request with(String newTarget, Headers newHeaders, byte[] newBodyPrefix) {
    return new StreamRequest(streamId, (Request.Simple) Request.super.with(newTarget, newHeaders, newBodyPrefix), streamError);
  }
}
