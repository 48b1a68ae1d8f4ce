package dev.spanwire.exporter.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.testing.Exchanges;
import dev.spanwire.semconv.NamingScheme;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ExchangeFieldsTest {
  private static final ProcessInfo APP = Exchanges.process(7, "app", null);

  private static Map<String, Object> map(List<Field> fields) {
    Map<String, Object> map = new LinkedHashMap<>();
    fields.forEach(f -> map.put(f.name(), f.value()));
    return map;
  }

  private static Exchange withLines(Exchange e, List<String> requestLines, List<String> responseLines) {
    return e.withMessages(
        e.request().with(e.request().target(), Headers.ofLines(requestLines), e.request().bodyPrefix()),
        e.response().with(Headers.ofLines(responseLines), e.response().bodyPrefix()));
  }

  @Test
  void watchedHeadersBecomeFieldsNamedPerScheme() {
    Exchange e = withLines(
        Exchanges.exchange(APP, Role.SERVER, 1, "GET /a HTTP/1.1\nHost: h\n\n", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 1000, 1000),
        List.of("Host: h", "X-Tenant: acme", "X-Tenant: beta", "Accept: */*"),
        List.of("Content-Length: 0", "X-Cache: HIT"));
    List<Pattern> watched = List.of(Pattern.compile("(?i)^x-"));
    assertThat(map(new ExchangeFields(NamingScheme.APPSCOPE, watched).exchange(e)))
        .containsEntry("http_request_header_x_tenant", "acme, beta")
        .containsEntry("http_response_header_x_cache", "HIT")
        .doesNotContainKey("http_request_header_accept");
    assertThat(map(new ExchangeFields(NamingScheme.OTEL_STABLE, watched).exchange(e)))
        .containsEntry("http.request.header.x-tenant", "acme, beta")
        .containsEntry("http.response.header.x-cache", "HIT");
    assertThat(map(new ExchangeFields(NamingScheme.APPSCOPE, watched).request(e.connection(), "1.1", e.request())))
        .containsEntry("http_request_header_x_tenant", "acme, beta")
        .doesNotContainKey("http_response_header_x_cache");
    assertThat(map(new ExchangeFields(NamingScheme.APPSCOPE).exchange(e))).doesNotContainKey("http_request_header_x_tenant");
  }

  private static Request body(byte[] bytes, boolean truncated) {
    Request m = Exchanges.message("POST /b HTTP/1.1\nHost: h\nContent-Length: 0\n\n", true, null, 1000);
    return new Request.Simple(m.method(), m.target(), m.authority(), m.userAgent(), m.headers(), bytes.length, bytes.length,
        true, bytes, truncated, m.startNanos(), m.headNanos(), m.endNanos(), false);
  }

  private static Map<String, Object> requestFields(Request request) {
    ConnectionInfo connection = Exchanges.exchange(APP, Role.SERVER, 1, "GET / HTTP/1.1\n\n", null, 0, 0).connection();
    return map(new ExchangeFields(NamingScheme.APPSCOPE).request(connection, "1.1", request));
  }

  @Test
  void bodiesAreTextWhenUtf8ElseBase64AndMarkedWhenCut() {
    assertThat(requestFields(body("name=Zoë&x=1\n".getBytes(StandardCharsets.UTF_8), false)))
        .containsEntry("http_request_body", "name=Zoë&x=1\n")
        .doesNotContainKeys("http_request_body_encoding", "http_request_body_truncated");
    assertThat(requestFields(body(new byte[] {0, 1, 2, (byte) 0xff}, false)))
        .containsEntry("http_request_body", "AAEC/w==")
        .containsEntry("http_request_body_encoding", "base64");
    // cut inside the two bytes of 'ë': the text ends before it
    byte[] cut = "Zoë".getBytes(StandardCharsets.UTF_8);
    assertThat(requestFields(body(java.util.Arrays.copyOf(cut, cut.length - 1), true)))
        .containsEntry("http_request_body", "Zo")
        .containsEntry("http_request_body_truncated", true);
    // nothing kept, the body budget being spent: an empty body, cut
    Request starved = new Request.Simple("POST", "/b", "h", null, Headers.NONE, 1000, 1000, true, null, true, 1000, 1000, 1000, false);
    assertThat(requestFields(starved)).containsEntry("http_request_body", "").containsEntry("http_request_body_truncated", true);
    // body capture off: no body fields
    Request off = new Request.Simple("POST", "/b", "h", null, Headers.NONE, 1000, 1000, true, null, false, 1000, 1000, 1000, false);
    assertThat(requestFields(off)).doesNotContainKeys("http_request_body", "http_request_body_truncated");
  }

  @Test
  void watchedXAppscopeIsOneAttributeInTheDottedSchemes() {
    Exchange e = withLines(
        Exchanges.exchange(APP, Role.SERVER, 1, "GET /a HTTP/1.1\nHost: h\nX-AppScope: app=1\n\n",
            "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 1000, 1000),
        List.of("Host: h", "X-AppScope: app=1"), List.of());
    List<Pattern> watched = List.of(Pattern.compile("(?i)^x-appscope"));
    for (NamingScheme scheme : NamingScheme.values()) {
      List<String> names = new ExchangeFields(scheme, watched).exchange(e).stream().map(Field::name).toList();
      assertThat(names).as(scheme.toString()).doesNotHaveDuplicates();
    }
  }

  @Test
  void ipv6AddressesAreWrittenCompressed() throws Exception {
    Exchange v4 = Exchanges.exchange(APP, Role.SERVER, 1, "GET /a HTTP/1.1\nHost: h\n\n", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 1000, 1000);
    java.net.InetSocketAddress local = new java.net.InetSocketAddress(java.net.InetAddress.getByName("::1"), 8080);
    java.net.InetSocketAddress remote = new java.net.InetSocketAddress(java.net.InetAddress.getByName("fe80::0:0:0:1"), 50000);
    Exchange e = new Exchange(new ConnectionInfo(1, local, remote, Role.SERVER, APP), 7, "HTTP", "1.1", -1, v4.request(),
        v4.response(), v4.ids());
    assertThat(map(new ExchangeFields(NamingScheme.APPSCOPE).exchange(e)))
        .containsEntry("net_host_ip", "::1").containsEntry("net_peer_ip", "fe80::1");
  }
}
