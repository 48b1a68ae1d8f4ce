package dev.spanwire.semconv;

/**
 * What Spanwire knows of an HTTP exchange, with the attribute name each naming scheme gives it.
 * A null name means the scheme has no such attribute; {@link NamingScheme#OTEL_STABLE} splits the
 * target into path and query and names the server rather than the host header.
 */
public enum HttpField {
  //            appscope                        otel-legacy                    otel-stable
  METHOD("http_method", "http.method", "http.request.method"),
  TARGET("http_target", "http.target", null),
  PATH(null, null, "url.path"),
  QUERY(null, null, "url.query"),
  FLAVOR("http_flavor", "http.flavor", "network.protocol.version"),
  /** The HTTP/2 stream of the exchange (AppScope's field; the OpenTelemetry schemes have none). */
  STREAM("http_stream", null, null),
  SCHEME("http_scheme", "http.scheme", "url.scheme"),
  HOST("http_host", "http.host", null),
  SERVER_ADDRESS(null, null, "server.address"),
  SERVER_PORT(null, null, "server.port"),
  /** The original client: the first X-Forwarded-For address (stable: else the peer, on servers). */
  CLIENT_ADDRESS("http_client_ip", "http.client_ip", "client.address"),
  /** AppScope's X-AppScope request header. */
  X_APPSCOPE("x_appscope", "http.request.header.x-appscope", "http.request.header.x-appscope"),
  USER_AGENT("http_user_agent", "http.user_agent", "user_agent.original"),
  STATUS_CODE("http_status_code", "http.status_code", "http.response.status_code"),
  STATUS_TEXT("http_status_text", null, null),
  REQUEST_CONTENT_LENGTH("http_request_content_length", "http.request_content_length", "http.request.body.size"),
  RESPONSE_CONTENT_LENGTH("http_response_content_length", "http.response_content_length", "http.response.body.size"),
  CLIENT_DURATION("http_client_duration", "http.client_duration", null),
  SERVER_DURATION("http_server_duration", "http.server_duration", null),
  ROUTE("http_route", "http.route", "http.route"),
  TRANSPORT("net_transport", "net.transport", "network.transport"),
  PEER_IP("net_peer_ip", "net.peer.ip", "network.peer.address"),
  PEER_PORT("net_peer_port", "net.peer.port", "network.peer.port"),
  HOST_IP("net_host_ip", "net.host.ip", "network.local.address"),
  HOST_PORT("net_host_port", "net.host.port", "network.local.port"),
  /** The first body bytes (http.max-body-size): UTF-8 text, or base64 with the encoding field. */
  REQUEST_BODY("http_request_body", "http.request_body", "http.request.body"),
  RESPONSE_BODY("http_response_body", "http.response_body", "http.response.body"),
  /** true when the body was longer than what the body field holds. */
  REQUEST_BODY_TRUNCATED("http_request_body_truncated", "http.request_body_truncated", "http.request.body.truncated"),
  RESPONSE_BODY_TRUNCATED("http_response_body_truncated", "http.response_body_truncated", "http.response.body.truncated"),
  /** "base64" when the body field holds base64 (the body was not UTF-8 text); absent for text. */
  REQUEST_BODY_ENCODING("http_request_body_encoding", "http.request_body_encoding", "http.request.body.encoding"),
  RESPONSE_BODY_ENCODING("http_response_body_encoding", "http.response_body_encoding", "http.response.body.encoding");

  private final String appscope;
  private final String legacy;
  private final String stable;

  HttpField(String appscope, String legacy, String stable) {
    this.appscope = appscope;
    this.legacy = legacy;
    this.stable = stable;
  }

  /** This field's attribute name in {@code scheme}, or null when the scheme has none. */
  public String name(NamingScheme scheme) {
    return switch (scheme) {
      case APPSCOPE -> appscope;
      case OTEL_LEGACY -> legacy;
      case OTEL_STABLE -> stable;
    };
  }

  /** The transport value the scheme uses for TCP: AppScope's and old OTel's, or the stable one. */
  public static String tcpTransport(NamingScheme scheme) {
    return switch (scheme) {
      case APPSCOPE -> "IP.TCP";
      case OTEL_LEGACY -> "ip_tcp";
      case OTEL_STABLE -> "tcp";
    };
  }

  /**
   * The protocol version as the scheme writes it, from AppScope's {@code http_flavor} form
   * ({@code 1.0}, {@code 1.1}, {@code 2.0}): the stable conventions write HTTP/2 as {@code 2}.
   */
  public static String version(NamingScheme scheme, String flavor) {
    return scheme == NamingScheme.OTEL_STABLE && "2.0".equals(flavor) ? "2" : flavor;
  }

  /**
   * The attribute name of an extra request or response header (lower case, '-' as '_'):
   * {@code http_request_header_x_tenant}, {@code http.request.header.x-tenant}.
   */
  public static String headerName(NamingScheme scheme, boolean request, String header) {
    String lower = header.toLowerCase(java.util.Locale.ROOT);
    String direction = request ? "request" : "response";
    return switch (scheme) {
      case APPSCOPE -> "http_" + direction + "_header_" + lower.replace('-', '_');
      case OTEL_LEGACY, OTEL_STABLE -> "http." + direction + ".header." + lower;
    };
  }
}
