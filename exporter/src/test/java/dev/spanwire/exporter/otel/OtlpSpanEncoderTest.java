package dev.spanwire.exporter.otel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ExchangeFields;
import dev.spanwire.exporter.exchange.Field;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.exchange.SpanIds;
import dev.spanwire.exporter.protocol.HeaderSelection;
import dev.spanwire.exporter.protocol.http1.Http1Parser;
import dev.spanwire.exporter.protocol.http1.HttpMessage;
import dev.spanwire.exporter.testing.Exchanges;
import dev.spanwire.exporter.trace.SpanIdentities;
import dev.spanwire.semconv.NamingScheme;
import io.opentelemetry.exporter.internal.otlp.traces.TraceRequestMarshaler;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Spans encoded straight to OTLP protobuf parse to exactly the request the SDK's own marshaler
 * makes of the same spans built as SpanData: every naming scheme, errors, traceparents, watched
 * headers, bodies, non-ASCII, long values, HTTP/2 and gRPC.
 */
class OtlpSpanEncoderTest {
  private static final KernelClock CLOCK = KernelClock.withOffset(1_700_000_000_000_000_000L);
  private static final InstrumentationScopeInfo SCOPE = InstrumentationScopeInfo.builder("spanwire").setVersion("9.9.9").build();
  private static final SpanIdentities IDS = new SpanIdentities(new SplittableRandom(5));

  /** One message parsed from text with every header kept and {@code bodyBytes} of its body. */
  private static HttpMessage message(String text, boolean request, String requestMethod, long nanos, int bodyBytes) {
    List<HttpMessage> out = new ArrayList<>();
    Http1Parser parser = new Http1Parser(request ? Http1Parser.Mode.REQUESTS : Http1Parser.Mode.RESPONSES,
        new Http1Parser.Listener() {
          @Override
          public Http1Parser.HeadAction onResponseHead(int statusCode) {
            return "HEAD".equals(requestMethod) ? Http1Parser.HeadAction.NO_BODY : Http1Parser.HeadAction.BODY;
          }

          @Override
          public void onMessage(HttpMessage message) {
            out.add(message);
          }
        }, HeaderSelection.product(true), bodyBytes, Http1Parser.DEFAULT_MAX_HEAD_BYTES);
    byte[] bytes = text.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
    parser.feed(bytes, 0, bytes.length, 0, nanos);
    parser.close(nanos);
    return out.getFirst();
  }

  private static Exchange exchange(ProcessInfo process, Role role, long id, String version, long stream, String request,
      String response) {
    InetSocketAddress server = new InetSocketAddress("127.0.0.1", 8080);
    InetSocketAddress client = new InetSocketAddress("127.0.0.1", 40000 + (int) id);
    ConnectionInfo connection = role == Role.SERVER
        ? new ConnectionInfo(id, server, client, role, process)
        : new ConnectionInfo(id, client, server, role, process);
    long start = 1_000_000_000L + id * 1_000_000L;
    HttpMessage q = message(request, true, null, start, 64);
    HttpMessage r = response == null ? null : message(response, false, q.method(), start + 2_345_678L, 64);
    SpanIds ids = IDS.ids(q);
    return new Exchange(connection, process.pid(), "HTTP", version, stream, q, r, ids);
  }

  private static List<Exchange> exchanges() {
    ProcessInfo nginx = Exchanges.process(10, "nginx", "nginx");
    ProcessInfo curl = Exchanges.process(11, "curl", "curl");
    ProcessInfo grpc = new ProcessInfo(12, "java", "java", "java -jar app.jar --token REDACTED", "orders", "abc123def456",
        1000, 1000);
    List<Exchange> list = new ArrayList<>();
    list.add(exchange(nginx, Role.SERVER, 1, "1.1", -1,
        "GET /users/42?page=2 HTTP/1.1\nHost: shop:8080\nUser-Agent: curl/8\nX-Tenant: blue\nX-AppScope: app=1\nx-tenant: green\n\n",
        "HTTP/1.1 200 OK\nContent-Length: 5\nX-Tenant: blue\n\nhello"));
    list.add(exchange(curl, Role.CLIENT, 2, "1.1", -1,
        "POST /orders HTTP/1.1\nHost: shop\nContent-Type: application/json\nContent-Length: 13\n\n{\"a\":\"caf\u00e9\"}",
        "HTTP/1.1 404 Not Found\nContent-Length: 0\n\n"));
    list.add(exchange(nginx, Role.SERVER, 3, "1.1", -1,
        "GET /fail HTTP/1.1\nHost: shop\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\n"
            + "tracestate: vendor=1\nX-Forwarded-For: 10.1.2.3, 10.0.0.1\n\n",
        "HTTP/1.1 503 Service Unavailable\nContent-Length: 0\n\n"));
    list.add(exchange(curl, Role.CLIENT, 4, "1.1", -1,
        "GET /unsampled HTTP/1.1\nHost: shop\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00\n\n",
        "HTTP/1.1 200 OK\nContent-Length: 2\n\nok"));
    list.add(exchange(nginx, Role.SERVER, 5, "1.1", -1,
        "GET /" + "long-segment-".repeat(20) + "?q=%E6%97%A5 HTTP/1.1\nHost: h\nUser-Agent: \u65e5\u672c/" + "x".repeat(300) + "\n\n",
        null));
    list.add(exchange(grpc, Role.SERVER, 6, "2.0", 1,
        "POST /demo.Greeter/Say HTTP/1.1\nHost: grpc:50051\nContent-Type: application/grpc\nTE: trailers\n\n",
        "HTTP/1.1 200 OK\nContent-Type: application/grpc\ngrpc-status: 5\ngrpc-message: no%20such%20greeting\n\n"));
    list.add(exchange(grpc, Role.CLIENT, 7, "2.0", 3,
        "POST /demo.Greeter/Count HTTP/1.1\nHost: grpc:50051\nContent-Type: application/grpc+proto\n\n",
        "HTTP/1.1 200 OK\nContent-Type: application/grpc\ngrpc-status: 0\n\n"));
    list.add(exchange(curl, Role.CLIENT, 8, "2.0", 5,
        "GET /h2 HTTP/1.1\nHost: shop\n\n", "HTTP/1.1 204 No Content\n\n"));
    return list;
  }

  private static ExportTraceServiceRequest normalized(ExportTraceServiceRequest request) {
    // the order of the resource groups carries nothing; the spans keep theirs within a group
    List<ResourceSpans> groups = new ArrayList<>(request.getResourceSpansList());
    groups.sort(Comparator.comparing(g -> g.getResource().toString()));
    return ExportTraceServiceRequest.newBuilder().addAllResourceSpans(groups).build();
  }

  @Test
  void theEncodedRequestIsTheSdksForEveryNamingSchemeAndKindOfExchange() throws IOException {
    List<Exchange> exchanges = exchanges();
    for (NamingScheme scheme : NamingScheme.values()) {
      // no watched headers; one header by name; a header a standard field of the dotted schemes
      // has too (asked back of the span); a regex over whole lines
      for (List<String> regexes : List.of(List.<String>of(), List.of("(?i)^x-tenant:"), List.of("(?i)^x-appscope:", "^X-Tenant:"),
          List.of("blue|grpc-message"))) {
        boolean watched = !regexes.isEmpty();
        ExchangeFields fields = new ExchangeFields(scheme, regexes.stream().map(Pattern::compile).toList());
        UnaryOperator<List<Field>> keep = watched
            ? f -> f.stream().filter(x -> !x.name().contains("user")).toList()
            : f -> f;
        ProcessResources resources = new ProcessResources("testhost");
        List<SpanData> spans = new ArrayList<>();
        ExchangeSpans sdkSpans = new ExchangeSpans(CLOCK, fields, keep, resources, SCOPE);
        for (Exchange e : exchanges) {
          spans.add(sdkSpans.apply(e));
        }
        ByteArrayOutputStream sdk = new ByteArrayOutputStream();
        TraceRequestMarshaler.create(spans).writeBinaryTo(sdk);

        ExportTraceServiceRequest expected = normalized(ExportTraceServiceRequest.parseFrom(sdk.toByteArray()));
        // with every field kept the encoder writes them straight into the span (a null filter);
        // through a filter, from the list of fields
        for (UnaryOperator<List<Field>> filter : watched ? List.of(keep) : java.util.Arrays.asList(keep, null)) {
          encodeAndCompare(exchanges, fields, filter, resources, expected, scheme + ", watched " + regexes + ", filter " + filter);
        }
        if (watched) {
          // every field kept: straight into the span, each watched header asking what came before
          List<SpanData> all = new ArrayList<>();
          ExchangeSpans allSpans = new ExchangeSpans(CLOCK, fields, f -> f, resources, SCOPE);
          for (Exchange e : exchanges) {
            all.add(allSpans.apply(e));
          }
          ByteArrayOutputStream sdkAll = new ByteArrayOutputStream();
          TraceRequestMarshaler.create(all).writeBinaryTo(sdkAll);
          encodeAndCompare(exchanges, fields, null, resources,
              normalized(ExportTraceServiceRequest.parseFrom(sdkAll.toByteArray())), scheme + ", watched " + regexes + ", direct");
        }
      }
    }
  }

  private static void encodeAndCompare(List<Exchange> exchanges, ExchangeFields fields, UnaryOperator<List<Field>> filter,
      ProcessResources resources, ExportTraceServiceRequest expected, String what) throws IOException {
    ProtoWriter ours = new ProtoWriter(64); // small: every growth path runs
    int written = new OtlpSpanEncoder(CLOCK, fields, filter, resources, SCOPE)
        .encode(exchanges, ours, (e, failure) -> { throw failure; });
    assertThat(written).isEqualTo(exchanges.size());
    ExportTraceServiceRequest actual = normalized(ExportTraceServiceRequest.parseFrom(ours.toByteArray()));
    assertThat(actual).as(what).isEqualTo(expected);
    assertThat(actual.getResourceSpansCount()).isEqualTo(3);
  }

  @Test
  void anExchangeThatCannotBecomeASpanIsLeftOutAndTheRequestStaysWhole() throws IOException {
    List<Exchange> exchanges = new ArrayList<>(exchanges());
    Exchange broken = exchanges.get(1);
    exchanges.set(1, new Exchange(broken.connection(), broken.tid(), broken.protocol(), broken.version(), broken.streamId(),
        broken.request(), broken.response(), null)); // no ids: the encoder cannot write it
    ProtoWriter out = new ProtoWriter(1024);
    List<Exchange> failed = new ArrayList<>();
    ExchangeFields fields = new ExchangeFields(NamingScheme.APPSCOPE, List.of());
    int written = new OtlpSpanEncoder(CLOCK, fields, f -> f, new ProcessResources("h"), SCOPE)
        .encode(exchanges, out, (e, failure) -> failed.add(e));
    assertThat(written).isEqualTo(exchanges.size() - 1);
    assertThat(failed).containsExactly(exchanges.get(1));
    ExportTraceServiceRequest request = ExportTraceServiceRequest.parseFrom(out.toByteArray());
    assertThat(request.getResourceSpansList().stream().mapToInt(g -> g.getScopeSpans(0).getSpansCount()).sum())
        .isEqualTo(exchanges.size() - 1);
  }
}
