package dev.spanwire.exporter.output;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ExchangeFields;
import dev.spanwire.exporter.testing.Exchanges;
import dev.spanwire.semconv.NamingScheme;
import java.io.IOException;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The JSON type of every HTTP event field, as AppScope writes it. */
class JsonEventSinkTest {
  /**
   * AppScope's own examples of http-req and http-resp events (its developer guide, docs/HTTP.md,
   * and its integration tests, which grep for {@code "net_peer_port":"[0-9]+"}): the ports are
   * strings, the status code, durations and content lengths numbers. The fields AppScope does not
   * have are Spanwire's, typed as their values are.
   */
  private static final Map<String, JsonNodeType> APPSCOPE_TYPES = Map.ofEntries(
      Map.entry("http_method", JsonNodeType.STRING),
      Map.entry("http_target", JsonNodeType.STRING),
      Map.entry("http_flavor", JsonNodeType.STRING),
      Map.entry("http_scheme", JsonNodeType.STRING),
      Map.entry("http_host", JsonNodeType.STRING),
      Map.entry("http_user_agent", JsonNodeType.STRING),
      Map.entry("http_status_code", JsonNodeType.NUMBER),
      Map.entry("http_status_text", JsonNodeType.STRING),
      Map.entry("http_server_duration", JsonNodeType.NUMBER),
      Map.entry("http_client_duration", JsonNodeType.NUMBER),
      Map.entry("http_request_content_length", JsonNodeType.NUMBER),
      Map.entry("http_response_content_length", JsonNodeType.NUMBER),
      Map.entry("net_transport", JsonNodeType.STRING),
      Map.entry("net_peer_ip", JsonNodeType.STRING),
      Map.entry("net_peer_port", JsonNodeType.STRING),
      Map.entry("net_host_ip", JsonNodeType.STRING),
      Map.entry("net_host_port", JsonNodeType.STRING),
      // AppScope's names for what its library also reports
      Map.entry("http_client_ip", JsonNodeType.STRING),
      Map.entry("x_appscope", JsonNodeType.STRING));
  private static final Pattern HEADER_FIELD = Pattern.compile("http_(request|response)_header_.*");

  private final StringWriter out = new StringWriter();
  private final JsonEventSink sink = new JsonEventSink(out, KernelClock.withOffset(0), "box",
      new ExchangeFields(NamingScheme.APPSCOPE, List.of(Pattern.compile("(?i)^x-tenant:"))), JsonEventSink.EventFilter.ALL);

  private List<JsonNode> events() throws IOException {
    ObjectMapper json = new ObjectMapper();
    return out.toString().lines().map(line -> {
      try {
        return json.readTree(line);
      } catch (IOException e) {
        throw new AssertionError(line, e);
      }
    }).toList();
  }

  @Test
  void everyFieldOfTheHttpEventsHasAppScopesType() throws IOException {
    String request = "POST /orders?id=7 HTTP/1.1\nHost: shop:8080\nUser-Agent: test/1\nX-Forwarded-For: 10.1.2.3\n"
        + "X-AppScope: app=1\nX-Tenant: blue\nContent-Length: 2\n\n{}";
    String response = "HTTP/1.1 201 Created\nContent-Length: 5\nX-Tenant: blue\n\nhello";
    for (Role role : List.of(Role.SERVER, Role.CLIENT)) {
      Exchange exchange = Exchanges.exchange(Exchanges.process(10, "svc", "svc"), role, 3, request, response,
          1_000_000_000L, 2_500_000L);
      sink.onRequest(exchange.connection(), exchange.version(), exchange.request());
      sink.onExchange(exchange);
    }
    List<JsonNode> events = events();
    assertThat(events).extracting(e -> e.at("/body/source").asText()).containsExactly("http-req", "http-resp", "http-req", "http-resp");
    Map<String, JsonNodeType> seen = new HashMap<>();
    for (JsonNode event : events) {
      event.at("/body/data").properties().forEach(field -> {
        String name = field.getKey();
        JsonNodeType type = field.getValue().getNodeType();
        if (HEADER_FIELD.matcher(name).matches()) {
          assertThat(type).as(name).isEqualTo(JsonNodeType.STRING);
        } else {
          assertThat(APPSCOPE_TYPES).as("a field AppScope's examples type: %s", name).containsKey(name);
          assertThat(type).as(name).isEqualTo(APPSCOPE_TYPES.get(name));
        }
        seen.put(name, type);
      });
    }
    assertThat(seen.keySet()).as("every field of the examples is written").containsAll(APPSCOPE_TYPES.keySet());
    JsonNode serverResponse = events.get(1).at("/body/data");
    assertThat(serverResponse.get("net_host_port").asText()).isEqualTo("8080");
    assertThat(serverResponse.get("net_peer_port").asText()).isEqualTo("40003");
    assertThat(serverResponse.get("http_server_duration").asDouble()).isEqualTo(2.5);
    assertThat(serverResponse.get("http_status_code").asInt()).isEqualTo(201);
  }

  @Test
  void requestsAreTakenOnlyWhenTheFilterMayWriteRequestEvents() {
    ExchangeFields fields = new ExchangeFields(NamingScheme.APPSCOPE, List.of());
    JsonEventSink.EventFilter responsesOnly = new JsonEventSink.EventFilter() {
      @Override
      public boolean emits(String source) {
        return source.equals("http-resp");
      }

      @Override
      public List<dev.spanwire.exporter.exchange.Field> apply(String source, List<dev.spanwire.exporter.exchange.Field> data) {
        return emits(source) ? data : null;
      }
    };
    assertThat(sink.takesRequests()).isTrue();
    assertThat(new JsonEventSink(out, KernelClock.withOffset(0), "box", fields, responsesOnly).takesRequests()).isFalse();
  }

  @Test
  void theNetCloseEventOfAnOpaqueConnectionKeepsNumericPorts() throws IOException {
    Exchange exchange = Exchanges.exchange(Exchanges.process(10, "svc", "svc"), Role.CLIENT, 4,
        "GET / HTTP/1.1\nHost: h\n\n", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 1_000_000_000L, 1_000_000L);
    sink.onOpaque(new dev.spanwire.exporter.exchange.OpaqueConnection(exchange.connection(), 1_000_000_000L, 2_000_000_000L, 10, 20));
    assertThat(events().getFirst().at("/body/data/net_peer_port").getNodeType()).isEqualTo(JsonNodeType.NUMBER);
  }
}
