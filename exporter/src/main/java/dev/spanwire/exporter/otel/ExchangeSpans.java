package dev.spanwire.exporter.otel;

import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.ExchangeFields;
import dev.spanwire.exporter.exchange.Field;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.GrpcCall;
import dev.spanwire.exporter.exchange.SpanIds;
import dev.spanwire.exporter.exchange.RouteTemplate;
import dev.spanwire.semconv.HttpField;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.function.Function;

/**
 * Turns exchanges into spans: kind by role, {@code {METHOD} {route}} names, kernel times on the
 * wall clock, ERROR for 5xx (and 4xx on client spans, and for a request the connection closed
 * on), the attributes of the naming scheme, in the trace, with the ids and parent, the exchange
 * was given at pairing.
 */
final class ExchangeSpans implements Function<Exchange, SpanData> {
  private final KernelClock clock;
  private final ExchangeFields fields;
  private final UnaryOperator<List<Field>> keep;
  private final ProcessResources resources;
  private final InstrumentationScopeInfo scope;
  private final String routeAttribute;

  /** @param keep the fields that become attributes (the watch rule's field and value filter) */
  ExchangeSpans(
      KernelClock clock, ExchangeFields fields, UnaryOperator<List<Field>> keep, ProcessResources resources,
      InstrumentationScopeInfo scope) {
    this.clock = clock;
    this.fields = fields;
    this.keep = keep;
    this.resources = resources;
    this.scope = scope;
    this.routeAttribute = HttpField.ROUTE.name(fields.scheme());
  }

  @Override
  public SpanData apply(Exchange exchange) {
    String route = RouteTemplate.of(exchange.request().target());
    SpanIds ids = exchange.ids();
    TraceFlags flags = ids.sampled() ? TraceFlags.getSampled() : TraceFlags.getDefault();
    String traceId = ids.traceIdHex();
    SpanContext context = SpanContext.create(traceId, ids.spanIdHex(), flags, traceState(ids.traceState()));
    SpanContext parent = !ids.hasParent()
        ? SpanContext.getInvalid()
        : ids.remoteParent()
            ? SpanContext.createFromRemoteParent(traceId, ids.parentSpanIdHex(), flags, TraceState.getDefault())
            : SpanContext.create(traceId, ids.parentSpanIdHex(), flags, TraceState.getDefault());
    GrpcCall call = GrpcCall.of(exchange);
    return new ExchangeSpan(
        call != null ? call.spanName() : exchange.request().method() + " " + route,
        exchange.role() == Role.CLIENT ? SpanKind.CLIENT : SpanKind.SERVER,
        context,
        parent,
        call != null ? status(exchange, call) : status(exchange),
        clock.toEpochNanos(exchange.startNanos()),
        clock.toEpochNanos(exchange.endNanos()),
        FieldAttributes.of(keep.apply(fields.exchange(exchange)), routeAttribute, route),
        resources.of(exchange.connection().process()),
        scope);
  }

  /** The W3C tracestate that came with the parent (kept only when it parses), else empty. */
  private static TraceState traceState(String value) {
    return TraceState.getDefault();
  }

  /** gRPC's status by OpenTelemetry's gRPC conventions; without a status, the HTTP rules. */
  static StatusData status(Exchange exchange, GrpcCall call) {
    if (call.statusCode() < 0) {
      return status(exchange);
    }
    if (call.isError(exchange.role() != Role.CLIENT)) {
      return call.message() == null ? StatusData.error() : StatusData.create(StatusCode.ERROR, call.message());
    }
    return StatusData.unset();
  }

  static StatusData status(Exchange exchange) {
    if (exchange.response() == null) {
      return StatusData.create(StatusCode.ERROR, "connection closed before a response");
    }
    int status = exchange.statusCode();
    if (status >= 500 || (status >= 400 && exchange.role() == Role.CLIENT)) {
      return StatusData.error();
    }
    return StatusData.unset();
  }
}
