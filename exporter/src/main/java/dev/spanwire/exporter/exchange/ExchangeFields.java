package dev.spanwire.exporter.exchange;

import dev.spanwire.bpf.Role;
import dev.spanwire.semconv.HttpField;
import dev.spanwire.semconv.RpcField;
import dev.spanwire.semconv.NamingScheme;
import java.net.InetSocketAddress;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The data fields of an exchange in one naming scheme, in AppScope's order: what a request event
 * carries, and what a response event (or span) carries, which repeats the request's method,
 * target, host and user agent. Absent values are left out. Watched headers (the watch rule's
 * {@code headers}) and captured bodies follow the standard fields.
 */
public final class ExchangeFields {
  private final NamingScheme scheme;
  private final WatchedHeaders watchedHeaders;

  /** Fields without extra headers. */
  public ExchangeFields(NamingScheme scheme) {
    this(scheme, List.of());
  }

  /**
   * @param watchedHeaders header lines ({@code Name: value}) any of these finds a match in become
   *     fields of their own
   */
  public ExchangeFields(NamingScheme scheme, List<Pattern> watchedHeaders) {
    this.scheme = scheme;
    this.watchedHeaders = new WatchedHeaders(watchedHeaders);
  }

  public NamingScheme scheme() {
    return scheme;
  }

  /** Whether header lines are watched: then a field's name may be asked of the sink ({@link FieldSink#has}). */
  public boolean watchesHeaders() {
    return !watchedHeaders.isEmpty();
  }

  /** The fields of AppScope's {@code http-req} event; {@code version} as {@code http_flavor}. */
  public List<Field> request(ConnectionInfo connection, String version, Request request) {
    FieldSink.Collected fields = new FieldSink.Collected(16);
    requestLine(fields, connection, request);
    add(fields, HttpField.FLAVOR, HttpField.version(scheme, version));
    if (request.streamId() >= 0) {
      add(fields, HttpField.STREAM, request.streamId());
    }
    add(fields, HttpField.SCHEME, connection.scheme());
    host(fields, connection, request);
    add(fields, HttpField.USER_AGENT, request.userAgent());
    clientAddress(fields, connection, request);
    add(fields, HttpField.X_APPSCOPE, request.xAppscope());
    network(fields, connection);
    if (request.declaredLength() >= 0) {
      add(fields, HttpField.REQUEST_CONTENT_LENGTH, request.declaredLength());
    }
    headers(fields, true, request.headers());
    body(fields, true, request.bodyPrefix(), request.bodyPrefixCut());
    return fields.fields();
  }

  /** The fields of AppScope's {@code http-resp} event; also a span's attributes. */
  public List<Field> exchange(Exchange exchange) {
    FieldSink.Collected fields = new FieldSink.Collected(24);
    exchange(exchange, fields);
    return fields.fields();
  }

  /** {@link #exchange(Exchange)}'s fields, in its order, into {@code fields}. */
  public void exchange(Exchange exchange, FieldSink fields) {
    ConnectionInfo connection = exchange.connection();
    Request request = exchange.request();
    Response response = exchange.response();
    requestLine(fields, connection, request);
    add(fields, HttpField.SCHEME, connection.scheme());
    add(fields, HttpField.FLAVOR, HttpField.version(scheme, exchange.version()));
    if (exchange.streamId() >= 0) {
      add(fields, HttpField.STREAM, exchange.streamId());
    }
    GrpcCall call = GrpcCall.of(exchange);
    if (call != null) {
      add(fields, RpcField.SYSTEM, RpcField.GRPC);
      add(fields, RpcField.SERVICE, call.service());
      add(fields, RpcField.METHOD, call.method());
      if (call.statusCode() >= 0) {
        add(fields, RpcField.GRPC_STATUS_CODE, (long) call.statusCode());
      }
    }
    if (response != null) {
      add(fields, HttpField.STATUS_CODE, (long) response.statusCode());
      if (response.statusText() != null && !response.statusText().isEmpty()) {
        add(fields, HttpField.STATUS_TEXT, response.statusText());
      }
      double millis = exchange.durationNanos() / 1e6;
      add(
          fields,
          connection.role() == Role.CLIENT ? HttpField.CLIENT_DURATION : HttpField.SERVER_DURATION,
          Math.round(millis * 1000) / 1000.0);
    }
    host(fields, connection, request);
    add(fields, HttpField.USER_AGENT, request.userAgent());
    clientAddress(fields, connection, request);
    add(fields, HttpField.X_APPSCOPE, request.xAppscope());
    network(fields, connection);
    contentLength(fields, HttpField.REQUEST_CONTENT_LENGTH, request.declaredLength(), request.bodyBytes());
    if (response != null) {
      contentLength(fields, HttpField.RESPONSE_CONTENT_LENGTH, response.declaredLength(), response.bodyBytes());
    }
    headers(fields, true, request.headers());
    body(fields, true, request.bodyPrefix(), request.bodyPrefixCut());
    if (response != null) {
      headers(fields, false, response.headers());
      body(fields, false, response.bodyPrefix(), response.bodyPrefixCut());
    }
  }

  /** The declared length, else the bytes that moved when there were any. */
  private void contentLength(FieldSink fields, HttpField field, long declared, long bytes) {
    if (declared >= 0) {
      add(fields, field, declared);
    } else if (bytes > 0) {
      add(fields, field, bytes);
    }
  }

  /** The watched header lines of a message, one field per header name (repeats joined by ", "). */
  private void headers(FieldSink fields, boolean request, Headers headers) {
    if (watchedHeaders.isEmpty() || headers.isEmpty()) {
      return;
    }
    Map<String, String> values = null;
    for (int i = 0; i < headers.size(); i++) {
      String rawName = headers.name(i);
      int colon = rawName.indexOf(':');
      if (colon == 0 || rawName.isEmpty()) {
        continue; // a line with nothing before its first colon (an HTTP/2 pseudo-header) names no field
      }
      if (!watchedHeaders.matches(rawName, headers.value(i))) {
        continue;
      }
      // as the line "Name: value" splits at its first colon, stripped
      String name = HttpField.headerName(scheme, request, (colon > 0 ? rawName.substring(0, colon) : rawName).strip());
      if (fields.has(name)) {
        continue; // a standard field of the same name (x-appscope in the dotted schemes) is there
      }
      String value = (colon > 0 ? rawName.substring(colon + 1) + ": " + headers.value(i) : headers.value(i)).strip();
      if (values == null) {
        values = new LinkedHashMap<>();
      }
      values.merge(name, value, (a, b) -> a + ", " + b);
    }
    if (values != null) {
      values.forEach(fields::add);
    }
  }

  /**
   * The captured body: UTF-8 text as it is, anything else base64; marked when cut. A body that
   * kept nothing because the pipeline's body budget was spent is an empty one marked cut (none
   * at all is what capture off looks like).
   */
  private void body(FieldSink fields, boolean request, byte[] prefix, boolean cut) {
    if (prefix == null) {
      if (cut) {
        add(fields, request ? HttpField.REQUEST_BODY : HttpField.RESPONSE_BODY, "");
        add(fields, request ? HttpField.REQUEST_BODY_TRUNCATED : HttpField.RESPONSE_BODY_TRUNCATED, Boolean.TRUE);
      }
      return;
    }
    String text = BodyText.utf8(prefix, cut);
    if (text != null) {
      add(fields, request ? HttpField.REQUEST_BODY : HttpField.RESPONSE_BODY, text);
    } else {
      add(fields, request ? HttpField.REQUEST_BODY : HttpField.RESPONSE_BODY,
          Base64.getEncoder().encodeToString(prefix));
      add(fields, request ? HttpField.REQUEST_BODY_ENCODING : HttpField.RESPONSE_BODY_ENCODING, "base64");
    }
    if (cut) {
      add(fields, request ? HttpField.REQUEST_BODY_TRUNCATED : HttpField.RESPONSE_BODY_TRUNCATED, Boolean.TRUE);
    }
  }

  private void requestLine(FieldSink fields, ConnectionInfo connection, Request request) {
    add(fields, HttpField.METHOD, request.method());
    if (scheme == NamingScheme.OTEL_STABLE) {
      add(fields, HttpField.PATH, RouteTemplate.pathOf(request.target()));
      add(fields, HttpField.QUERY, RouteTemplate.queryOf(request.target()));
    } else {
      add(fields, HttpField.TARGET, request.target());
    }
  }

  private void host(FieldSink fields, ConnectionInfo connection, Request request) {
    if (scheme != NamingScheme.OTEL_STABLE) {
      add(fields, HttpField.HOST, request.authority());
      return;
    }
    // server.address/port: what the client asked for (Host), else where it connected
    InetSocketAddress server = connection.server();
    String host = request.authority();
    if (host == null || host.isEmpty()) {
      add(fields, HttpField.SERVER_ADDRESS, Addresses.text(server.getAddress()));
      add(fields, HttpField.SERVER_PORT, (long) server.getPort());
      return;
    }
    String address = host;
    String port = null;
    if (host.startsWith("[")) {
      int close = host.indexOf(']');
      if (close > 0) {
        address = host.substring(1, close);
        port = host.startsWith(":", close + 1) ? host.substring(close + 2) : null;
      }
    } else if (host.indexOf(':') >= 0 && host.indexOf(':') == host.lastIndexOf(':')) {
      address = host.substring(0, host.indexOf(':'));
      port = host.substring(host.indexOf(':') + 1);
    }
    add(fields, HttpField.SERVER_ADDRESS, address);
    add(fields, HttpField.SERVER_PORT, port == null ? (long) server.getPort() : parsePort(port, server.getPort()));
  }

  private static long parsePort(String text, int fallback) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      return fallback;
    }
  }

  private void clientAddress(FieldSink fields, ConnectionInfo connection, Request request) {
    String forwarded = request.xForwardedFor();
    if (forwarded != null) {
      int comma = forwarded.indexOf(',');
      add(fields, HttpField.CLIENT_ADDRESS, (comma < 0 ? forwarded : forwarded.substring(0, comma)).strip());
    } else if (scheme == NamingScheme.OTEL_STABLE && connection.role() == Role.SERVER) {
      add(fields, HttpField.CLIENT_ADDRESS, Addresses.text(connection.remote().getAddress()));
    }
  }

  private void network(FieldSink fields, ConnectionInfo connection) {
    add(fields, HttpField.TRANSPORT, HttpField.tcpTransport(scheme));
    add(fields, HttpField.PEER_IP, Addresses.text(connection.remote().getAddress()));
    add(fields, HttpField.PEER_PORT, (long) connection.remote().getPort());
    add(fields, HttpField.HOST_IP, Addresses.text(connection.local().getAddress()));
    add(fields, HttpField.HOST_PORT, (long) connection.local().getPort());
  }

  private void add(FieldSink fields, RpcField field, Object value) {
    if (value != null) {
      fields.add(field.name(scheme), value);
    }
  }

  private void add(FieldSink fields, RpcField field, long value) {
    fields.add(field.name(scheme), value);
  }

  private void add(FieldSink fields, HttpField field, Object value) {
    String name = field.name(scheme);
    if (name != null && value != null) {
      fields.add(name, value);
    }
  }

  private void add(FieldSink fields, HttpField field, long value) {
    String name = field.name(scheme);
    if (name != null) {
      fields.add(name, value);
    }
  }

  private void add(FieldSink fields, HttpField field, double value) {
    String name = field.name(scheme);
    if (name != null) {
      fields.add(name, value);
    }
  }
}
