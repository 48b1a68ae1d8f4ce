package dev.spanwire.semconv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Pins every name of every scheme: renaming one is a deliberate, visible change. */
class NamesTest {
  private static Map<HttpField, String> names(NamingScheme scheme) {
    Map<HttpField, String> names = new LinkedHashMap<>();
    for (HttpField field : HttpField.values()) {
      if (field.name(scheme) != null) {
        names.put(field, field.name(scheme));
      }
    }
    return names;
  }

  @Test
  void appscopeAttributeNames() {
    assertThat(names(NamingScheme.APPSCOPE).values())
        .containsExactly(
            "http_method", "http_target", "http_flavor", "http_stream", "http_scheme", "http_host",
            "http_client_ip", "x_appscope", "http_user_agent", "http_status_code", "http_status_text",
            "http_request_content_length", "http_response_content_length",
            "http_client_duration", "http_server_duration", "http_route", "net_transport",
            "net_peer_ip", "net_peer_port", "net_host_ip", "net_host_port",
            "http_request_body", "http_response_body", "http_request_body_truncated",
            "http_response_body_truncated", "http_request_body_encoding", "http_response_body_encoding");
  }

  @Test
  void otelLegacyAttributeNames() {
    assertThat(names(NamingScheme.OTEL_LEGACY).values())
        .containsExactly(
            "http.method", "http.target", "http.flavor", "http.scheme", "http.host",
            "http.client_ip", "http.request.header.x-appscope", "http.user_agent", "http.status_code", "http.request_content_length",
            "http.response_content_length", "http.client_duration", "http.server_duration",
            "http.route", "net.transport", "net.peer.ip", "net.peer.port", "net.host.ip",
            "net.host.port", "http.request_body", "http.response_body", "http.request_body_truncated",
            "http.response_body_truncated", "http.request_body_encoding", "http.response_body_encoding");
  }

  @Test
  void otelStableAttributeNames() {
    assertThat(names(NamingScheme.OTEL_STABLE).values())
        .containsExactly(
            "http.request.method", "url.path", "url.query", "network.protocol.version",
            "url.scheme", "server.address", "server.port", "client.address",
            "http.request.header.x-appscope", "user_agent.original", "http.response.status_code", "http.request.body.size",
            "http.response.body.size", "http.route", "network.transport",
            "network.peer.address", "network.peer.port", "network.local.address",
            "network.local.port", "http.request.body", "http.response.body", "http.request.body.truncated",
            "http.response.body.truncated", "http.request.body.encoding", "http.response.body.encoding");
  }

  @Test
  void rpcNamesAndVersions() {
    assertThat(Arrays.stream(RpcField.values()).map(f -> f.name(NamingScheme.APPSCOPE)))
        .containsExactly("rpc_system", "rpc_service", "rpc_method", "rpc_grpc_status_code");
    for (NamingScheme scheme : new NamingScheme[] {NamingScheme.OTEL_LEGACY, NamingScheme.OTEL_STABLE}) {
      assertThat(Arrays.stream(RpcField.values()).map(f -> f.name(scheme)))
          .containsExactly("rpc.system", "rpc.service", "rpc.method", "rpc.grpc.status_code");
    }
    for (NamingScheme scheme : NamingScheme.values()) {
      assertThat(RpcMetric.SERVER_DURATION.name(scheme)).isEqualTo("rpc.server.duration");
      assertThat(RpcMetric.CLIENT_DURATION.name(scheme)).isEqualTo("rpc.client.duration");
      assertThat(RpcMetric.SERVER_DURATION.unit(scheme)).isEqualTo("ms");
    }
    assertThat(HttpField.version(NamingScheme.OTEL_STABLE, "2.0")).isEqualTo("2");
    assertThat(HttpField.version(NamingScheme.OTEL_STABLE, "1.1")).isEqualTo("1.1");
    assertThat(HttpField.version(NamingScheme.OTEL_LEGACY, "2.0")).isEqualTo("2.0");
    assertThat(HttpField.version(NamingScheme.APPSCOPE, "2.0")).isEqualTo("2.0");
  }

  @Test
  void transportValuesAndHeaderAttributes() {
    assertThat(HttpField.tcpTransport(NamingScheme.APPSCOPE)).isEqualTo("IP.TCP");
    assertThat(HttpField.tcpTransport(NamingScheme.OTEL_LEGACY)).isEqualTo("ip_tcp");
    assertThat(HttpField.tcpTransport(NamingScheme.OTEL_STABLE)).isEqualTo("tcp");
    assertThat(HttpField.headerName(NamingScheme.APPSCOPE, true, "X-Tenant-Id")).isEqualTo("http_request_header_x_tenant_id");
    assertThat(HttpField.headerName(NamingScheme.OTEL_LEGACY, false, "X-Cache")).isEqualTo("http.response.header.x-cache");
    assertThat(HttpField.headerName(NamingScheme.OTEL_STABLE, true, "X-Tenant-Id")).isEqualTo("http.request.header.x-tenant-id");
  }

  @Test
  void metricNamesUnitsAndKinds() {
    Map<String, String> appscope = new LinkedHashMap<>();
    Map<String, String> legacyServer = new LinkedHashMap<>();
    Map<String, String> stableClient = new LinkedHashMap<>();
    for (HttpMetric metric : HttpMetric.values()) {
      appscope.put(metric.name(NamingScheme.APPSCOPE, true), metric.unit(NamingScheme.APPSCOPE));
      legacyServer.put(metric.name(NamingScheme.OTEL_LEGACY, true), metric.unit(NamingScheme.OTEL_LEGACY));
      stableClient.put(metric.name(NamingScheme.OTEL_STABLE, false), metric.unit(NamingScheme.OTEL_STABLE));
    }
    assertThat(appscope).containsExactly(
        Map.entry("http.requests", "{request}"),
        Map.entry("http.server.duration", "ms"),
        Map.entry("http.client.duration", "ms"),
        Map.entry("http.request.content_length", "By"),
        Map.entry("http.response.content_length", "By"));
    assertThat(legacyServer).containsExactly(
        Map.entry("http.requests", "{request}"),
        Map.entry("http.server.duration", "ms"),
        Map.entry("http.client.duration", "ms"),
        Map.entry("http.server.request.size", "By"),
        Map.entry("http.server.response.size", "By"));
    assertThat(stableClient).containsExactly(
        Map.entry("http.requests", "{request}"),
        Map.entry("http.server.request.duration", "s"),
        Map.entry("http.client.request.duration", "s"),
        Map.entry("http.client.request.body.size", "By"),
        Map.entry("http.client.response.body.size", "By"));
    assertThat(HttpMetric.REQUESTS.kind()).isEqualTo(HttpMetric.Kind.COUNTER);
    assertThat(Arrays.stream(HttpMetric.values()).filter(m -> m.kind() == HttpMetric.Kind.HISTOGRAM)).hasSize(4);
  }

  @Test
  void agentMetricNamesUnitsAndKinds() {
    Map<String, String> names = new LinkedHashMap<>();
    for (AgentMetric metric : AgentMetric.values()) {
      names.put(metric.metricName(), metric.unit() + (metric.counter() ? " counter" : " gauge"));
    }
    assertThat(names).containsExactly(
        Map.entry("spanwire.events.received", "{event} counter"),
        Map.entry("spanwire.events.lost", "{event} counter"),
        Map.entry("spanwire.bytes.lost", "By counter"),
        Map.entry("spanwire.connections.untracked", "{connection} counter"),
        Map.entry("spanwire.connections.stale", "{connection} counter"),
        Map.entry("spanwire.syscalls.unseen", "{syscall} counter"),
        Map.entry("spanwire.events.size_only", "{event} counter"),
        Map.entry("spanwire.events.pressure_cut", "{event} counter"),
        Map.entry("spanwire.bytes.not_copied", "By counter"),
        Map.entry("spanwire.bytes.http2_data_not_copied", "By counter"),
        Map.entry("spanwire.http2.walks_lost", "{stream} counter"),
        Map.entry("spanwire.tls.calls", "{call} counter"),
        Map.entry("spanwire.tls.unattributed", "{call} counter"),
        Map.entry("spanwire.bytes.tls", "By counter"),
        Map.entry("spanwire.reader.catch_ups", "{event} counter"),
        Map.entry("spanwire.events.malformed", "{event} counter"),
        Map.entry("spanwire.events.failed", "{event} counter"),
        Map.entry("spanwire.bytes.captured", "By counter"),
        Map.entry("spanwire.connections", "{connection} gauge"),
        Map.entry("spanwire.processes", "{process} gauge"),
        Map.entry("spanwire.connections.ignored", "{connection} counter"),
        Map.entry("spanwire.connections.detected", "{connection} counter"),
        Map.entry("spanwire.connections.reestablished", "{connection} counter"),
        Map.entry("spanwire.connections.evicted", "{connection} counter"),
        Map.entry("spanwire.connections.close_recovered", "{connection} counter"),
        Map.entry("spanwire.processes.exited", "{process} counter"),
        Map.entry("spanwire.events.unknown_connection", "{event} counter"),
        Map.entry("spanwire.events.reordered", "{event} counter"),
        Map.entry("spanwire.events.duplicate", "{event} counter"),
        Map.entry("spanwire.gaps", "{gap} counter"),
        Map.entry("spanwire.gaps.bytes", "By counter"),
        Map.entry("spanwire.bytes.skipped", "By counter"),
        Map.entry("spanwire.requests", "{request} counter"),
        Map.entry("spanwire.responses", "{response} counter"),
        Map.entry("spanwire.exchanges", "{exchange} counter"),
        Map.entry("spanwire.exchanges.server", "{exchange} counter"),
        Map.entry("spanwire.exchanges.client", "{exchange} counter"),
        Map.entry("spanwire.requests.unanswered", "{request} counter"),
        Map.entry("spanwire.parse.errors", "{message} counter"),
        Map.entry("spanwire.resyncs", "{resync} counter"),
        Map.entry("spanwire.messages.unpaired", "{message} counter"),
        Map.entry("spanwire.requests.unpaired", "{request} counter"),
        Map.entry("spanwire.requests.dropped_pipelined", "{request} counter"),
        Map.entry("spanwire.connections.upgraded", "{connection} counter"),
        Map.entry("spanwire.http2.hpack_desync", "{field} counter"),
        Map.entry("spanwire.http2.unknown_messages", "{message} counter"),
        Map.entry("spanwire.http2.resets", "{stream} counter"),
        Map.entry("spanwire.http2.expired", "{stream} counter"),
        Map.entry("spanwire.http2.cut_headers", "{frame} counter"),
        Map.entry("spanwire.links.cross_process", "{span} counter"),
        Map.entry("spanwire.links.in_process", "{span} counter"),
        Map.entry("spanwire.links.ambiguous", "{span} counter"),
        Map.entry("spanwire.links.window_expired", "{span} counter"),
        Map.entry("spanwire.exchanges.below_min_latency", "{exchange} counter"),
        Map.entry("spanwire.metrics.dropped", "{datapoint} counter"),
        Map.entry("spanwire.output.dropped", "{line} counter"),
        Map.entry("spanwire.spans.sampled_out", "{span} counter"),
        Map.entry("spanwire.spans.exported", "{span} counter"),
        Map.entry("spanwire.spans.dropped", "{span} counter"),
        Map.entry("spanwire.spans.rejected", "{span} counter"),
        Map.entry("spanwire.export.failures", "{export} counter"),
        Map.entry("spanwire.export.catch_ups", "{event} counter"),
        Map.entry("spanwire.queue.size", "{span} gauge"),
        Map.entry("spanwire.queue.capacity", "{span} gauge"));
  }

  @Test
  void stableDurationBucketsAreTheSemconvAdvice() {
    assertThat(HttpMetric.SERVER_DURATION.buckets(NamingScheme.OTEL_STABLE))
        .containsExactly(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0);
    assertThat(HttpMetric.SERVER_DURATION.millisecondsToUnit(NamingScheme.OTEL_STABLE)).isEqualTo(0.001);
    assertThat(HttpMetric.SERVER_DURATION.buckets(NamingScheme.APPSCOPE)).startsWith(0.0, 5.0, 10.0).endsWith(10000.0);
    assertThat(HttpMetric.REQUESTS.buckets(NamingScheme.APPSCOPE)).isEmpty();
  }

  @Test
  void schemesAreChosenById() {
    assertThat(NamingScheme.of("otel-stable")).isEqualTo(NamingScheme.OTEL_STABLE);
    assertThatThrownBy(() -> NamingScheme.of("otel"))
        .hasMessage("unknown naming scheme 'otel', expected one of appscope, otel-legacy, otel-stable");
  }
}
