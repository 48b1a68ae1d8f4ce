package dev.spanwire.exporter.otel;

import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ExchangeFields;
import dev.spanwire.exporter.exchange.FieldSink;
import dev.spanwire.exporter.exchange.Field;
import dev.spanwire.exporter.exchange.GrpcCall;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.exchange.RouteTemplate;
import dev.spanwire.exporter.exchange.SpanIds;
import dev.spanwire.semconv.HttpField;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.data.StatusData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.UnaryOperator;

/**
 * Exchanges straight to an OTLP {@code ExportTraceServiceRequest} in protobuf, without SpanData,
 * Attributes or marshaler objects per span: each process's resource and the scope are encoded
 * once and copied in, ids and times written as fixed fields, attributes from the exchange's fields
 * as they come. The spans are those {@link ExchangeSpans} describes (the same names, kinds,
 * statuses, attributes and ids; an equivalence test holds the two together). Used by the export
 * thread only.
 */
final class OtlpSpanEncoder {
  // ExportTraceServiceRequest, ResourceSpans, ScopeSpans, Span, Status, KeyValue, AnyValue fields
  private static final int REQUEST_RESOURCE_SPANS = 1;
  private static final int RESOURCE_SPANS_RESOURCE = 1;
  private static final int RESOURCE_SPANS_SCOPE_SPANS = 2;
  private static final int RESOURCE_SPANS_SCHEMA_URL = 3;
  private static final int SCOPE_SPANS_SCOPE = 1;
  private static final int SCOPE_SPANS_SPANS = 2;
  private static final int SCOPE_SPANS_SCHEMA_URL = 3;
  private static final int SPAN_TRACE_ID = 1;
  private static final int SPAN_SPAN_ID = 2;
  private static final int SPAN_PARENT_SPAN_ID = 4;
  private static final int SPAN_NAME = 5;
  private static final int SPAN_KIND = 6;
  private static final int SPAN_START = 7;
  private static final int SPAN_END = 8;
  private static final int SPAN_ATTRIBUTES = 9;
  private static final int SPAN_STATUS = 15;
  private static final int SPAN_FLAGS = 16;
  private static final int STATUS_MESSAGE = 2;
  private static final int STATUS_CODE = 3;
  private static final int KEY_VALUE_KEY = 1;
  private static final int KEY_VALUE_VALUE = 2;
  private static final int ANY_STRING = 1;
  private static final int ANY_BOOL = 2;
  private static final int ANY_INT = 3;
  private static final int ANY_DOUBLE = 4;
  private static final int ANY_ARRAY = 5;
  private static final int ARRAY_VALUES = 1;
  private static final int SPAN_KIND_SERVER = 2;
  private static final int SPAN_KIND_CLIENT = 3;
  /** W3C trace flags' sampled bit, and OTLP's span flags saying whether the parent was remote. */
  private static final int FLAG_SAMPLED = 0x01;
  private static final int FLAG_HAS_IS_REMOTE = 0x100;
  private static final int FLAG_IS_REMOTE = 0x200;

  private final KernelClock clock;
  private final ExchangeFields fields;
  private final UnaryOperator<List<Field>> keep;
  private final ProcessResources resources;
  private final InstrumentationScopeInfo scope;
  private final String routeAttribute;
  /** ScopeSpans' scope field, encoded once. */
  private final byte[] scopeField;
  /** Each process's ResourceSpans resource field, encoded once (weak: the pipeline holds live processes). */
  private final Map<ProcessInfo, byte[]> resourceFields = new WeakHashMap<>();
  private final Map<ProcessInfo, String> resourceSchemas = new WeakHashMap<>();
  static final int MAX_CACHED_KEYS = 1024;
  private final Map<String, byte[]> keyFields = new java.util.HashMap<>();
  private static final int RECENT_KEYS = 64;
  private final String[] recentNames = new String[RECENT_KEYS];
  private final byte[][] recentFields = new byte[RECENT_KEYS][];
  /** Every field is kept: fields go straight into the span (no list, no boxes). */
  private final boolean direct;
  private final Attributes attributes;

  /** @param keep which fields become attributes; null for all of them (then written as they come) */
  OtlpSpanEncoder(
      KernelClock clock, ExchangeFields fields, UnaryOperator<List<Field>> keep, ProcessResources resources,
      InstrumentationScopeInfo scope) {
    this.clock = clock;
    this.fields = fields;
    this.keep = keep;
    this.direct = keep == null;
    this.attributes = new Attributes(fields.watchesHeaders());
    this.resources = resources;
    this.scope = scope;
    this.routeAttribute = HttpField.ROUTE.name(fields.scheme());
    ProtoWriter w = new ProtoWriter(64);
    int at = w.begin(SCOPE_SPANS_SCOPE);
    w.string(1, scope.getName());
    if (scope.getVersion() != null) {
      w.string(2, scope.getVersion());
    }
    scope.getAttributes().forEach((key, value) -> keyValue(w, 3, key, value));
    w.end(at);
    this.scopeField = w.toByteArray();
  }

  /** Why a span was left out of a request (its exchange could not be turned into one). */
  interface Failures {
    void failed(Exchange exchange, RuntimeException e);
  }

  /**
   * Writes one request of {@code batch}'s spans into {@code out} (from its start), grouped by
   * process; an exchange that fails half-way is left out and reported. Returns the spans written.
   */
  int encode(List<Exchange> batch, ProtoWriter out, Failures failures) {
    out.reset();
    // by identity: the registry hands every exchange of a process the same ProcessInfo
    Map<ProcessInfo, List<Exchange>> byProcess = new java.util.IdentityHashMap<>();
    for (Exchange exchange : batch) {
      byProcess.computeIfAbsent(exchange.connection().process(), p -> new ArrayList<>()).add(exchange);
    }
    int written = 0;
    for (Map.Entry<ProcessInfo, List<Exchange>> group : byProcess.entrySet()) {
      int resourceSpans = out.begin(REQUEST_RESOURCE_SPANS);
      out.raw(resourceField(group.getKey()));
      int scopeSpans = out.begin(RESOURCE_SPANS_SCOPE_SPANS);
      out.raw(scopeField);
      for (Exchange exchange : group.getValue()) {
        int before = out.size();
        try {
          span(exchange, out);
          written++;
        } catch (RuntimeException e) {
          out.truncate(before);
          failures.failed(exchange, e);
        }
      }
      if (scope.getSchemaUrl() != null) {
        out.string(SCOPE_SPANS_SCHEMA_URL, scope.getSchemaUrl());
      }
      out.end(scopeSpans);
      String schema = resourceSchemas.get(group.getKey());
      if (schema != null) {
        out.string(RESOURCE_SPANS_SCHEMA_URL, schema);
      }
      out.end(resourceSpans);
    }
    return written;
  }

  private byte[] resourceField(ProcessInfo process) {
    byte[] field = resourceFields.get(process);
    if (field == null) {
      Resource resource = resources.of(process);
      ProtoWriter w = new ProtoWriter(512);
      int at = w.begin(RESOURCE_SPANS_RESOURCE);
      resource.getAttributes().forEach((key, value) -> keyValue(w, 1, key, value));
      w.end(at);
      field = w.toByteArray();
      resourceFields.put(process, field);
      if (resource.getSchemaUrl() != null) {
        resourceSchemas.put(process, resource.getSchemaUrl());
      }
    }
    return field;
  }

  private void span(Exchange exchange, ProtoWriter out) {
    String route = RouteTemplate.of(exchange.request().target());
    SpanIds ids = exchange.ids();
    GrpcCall call = GrpcCall.of(exchange);
    int span = out.begin(SCOPE_SPANS_SPANS);
    out.idField(SPAN_TRACE_ID, ids.traceIdHigh(), ids.traceIdLow(), 2);
    out.idField(SPAN_SPAN_ID, ids.spanId(), 0, 1);
    if (ids.hasParent()) {
      out.idField(SPAN_PARENT_SPAN_ID, ids.parentSpanId(), 0, 1);
    }
    out.string(SPAN_NAME, call != null ? call.spanName() : exchange.request().method() + " " + route);
    out.tag(SPAN_KIND, ProtoWriter.VARINT);
    out.varint(exchange.role() == Role.CLIENT ? SPAN_KIND_CLIENT : SPAN_KIND_SERVER);
    out.tag(SPAN_START, ProtoWriter.FIXED64);
    out.fixed64(clock.toEpochNanos(exchange.startNanos()));
    out.tag(SPAN_END, ProtoWriter.FIXED64);
    out.fixed64(clock.toEpochNanos(exchange.endNanos()));
    if (direct) {
      attributes.start(out);
      fields.exchange(exchange, attributes);
    } else {
      for (Field field : keep.apply(fields.exchange(exchange))) {
        fieldValue(out, field.name(), field.value());
      }
    }
    fieldValue(out, routeAttribute, route);
    StatusData status = call != null ? ExchangeSpans.status(exchange, call) : ExchangeSpans.status(exchange);
    int at = out.begin(SPAN_STATUS);
    if (!status.getDescription().isEmpty()) {
      out.string(STATUS_MESSAGE, status.getDescription());
    }
    if (status.getStatusCode().ordinal() != 0) {
      out.tag(STATUS_CODE, ProtoWriter.VARINT);
      out.varint(otlpStatusCode(status));
    }
    out.end(at);
    out.tag(SPAN_FLAGS, ProtoWriter.FIXED32);
    out.fixed32((ids.sampled() ? FLAG_SAMPLED : 0) | FLAG_HAS_IS_REMOTE | (ids.hasParent() && ids.remoteParent() ? FLAG_IS_REMOTE : 0));
    out.end(span);
  }

  /** OTLP's status codes: UNSET 0, OK 1, ERROR 2. */
  private static int otlpStatusCode(StatusData status) {
    return switch (status.getStatusCode()) {
      case UNSET -> 0;
      case OK -> 1;
      case ERROR -> 2;
    };
  }

  /**
   * An attribute name's key field, encoded once: the scheme's names are few, but watched headers
   * name attributes after whatever the traffic carries, so past {@link #MAX_CACHED_KEYS} names
   * they are encoded each time.
   */
  private byte[] keyField(String name) {
    // the scheme's names are the same String objects span after span: a slot by the name's
    // (cached) hash, checked by identity, finds them without the map's walk and equals
    int slot = name.hashCode() & (RECENT_KEYS - 1);
    if (recentNames[slot] == name) {
      return recentFields[slot];
    }
    byte[] field = keyFields.get(name);
    if (field == null) {
      ProtoWriter w = new ProtoWriter(name.length() + 8);
      w.string(KEY_VALUE_KEY, name);
      field = w.toByteArray();
      if (keyFields.size() < MAX_CACHED_KEYS) {
        keyFields.put(name, field);
      }
    }
    recentNames[slot] = name;
    recentFields[slot] = field;
    return field;
  }

  /** The fields of the span being written, each an attribute as it comes. */
  private final class Attributes implements FieldSink {
    ProtoWriter out;
    /** The names written into this span, for {@link #has}: watched headers ask before adding. */
    private final boolean tracking;
    private String[] names = new String[32];
    private int count;

    Attributes(boolean tracking) {
      this.tracking = tracking;
    }

    void start(ProtoWriter out) {
      this.out = out;
      java.util.Arrays.fill(names, 0, count, null);
      count = 0;
    }

    private void named(String name) {
      if (!tracking) {
        return;
      }
      if (count == names.length) {
        names = java.util.Arrays.copyOf(names, count * 2);
      }
      names[count++] = name;
    }

    @Override
    public void add(String name, Object value) {
      named(name);
      fieldValue(out, name, value);
    }

    @Override
    public void add(String name, long value) {
      number(name, false, value);
    }

    @Override
    public void add(String name, double value) {
      number(name, true, Double.doubleToRawLongBits(value));
    }

    /** An int attribute, or a double one whose bits are {@code value}. */
    private void number(String name, boolean decimal, long value) {
      named(name);
      int kv = out.begin(SPAN_ATTRIBUTES);
      out.raw(keyField(name));
      int any = out.begin(KEY_VALUE_VALUE);
      if (decimal) {
        out.tag(ANY_DOUBLE, ProtoWriter.FIXED64);
        out.fixed64(value);
      } else {
        out.tag(ANY_INT, ProtoWriter.VARINT);
        out.varint(value);
      }
      out.end(any);
      out.end(kv);
    }

    @Override
    public boolean has(String name) {
      for (int i = 0; i < count; i++) {
        if (names[i].equals(name)) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * A span attribute from a field: String, Long, Double, Boolean, or anything else as its string.
   * Tested with instanceof, not a switch on the value's type: that is an invokedynamic call site,
   * method handles per attribute, where an instanceof chain is plain bytecode to either compiler.
   */
  private void fieldValue(ProtoWriter out, String name, Object value) {
    int kv = out.begin(SPAN_ATTRIBUTES);
    out.raw(keyField(name));
    int any = out.begin(KEY_VALUE_VALUE);
    if (value instanceof String s) {
      out.string(ANY_STRING, s);
    } else if (value instanceof Long l) {
      out.tag(ANY_INT, ProtoWriter.VARINT);
      out.varint(l);
    } else if (value instanceof Double d) {
      out.tag(ANY_DOUBLE, ProtoWriter.FIXED64);
      out.fixed64(Double.doubleToRawLongBits(d));
    } else if (value instanceof Boolean b) {
      out.tag(ANY_BOOL, ProtoWriter.VARINT);
      out.varint(b ? 1 : 0);
    } else {
      out.string(ANY_STRING, String.valueOf(value));
    }
    out.end(any);
    out.end(kv);
  }

  /** A resource or scope attribute, by its key's type. */
  private static void keyValue(ProtoWriter out, int field, AttributeKey<?> key, Object value) {
    int kv = out.begin(field);
    out.string(KEY_VALUE_KEY, key.getKey());
    int any = out.begin(KEY_VALUE_VALUE);
    switch (key.getType()) {
      case STRING_ARRAY, BOOLEAN_ARRAY, LONG_ARRAY, DOUBLE_ARRAY -> {
        int array = out.begin(ANY_ARRAY);
        for (Object element : (List<?>) value) {
          int item = out.begin(ARRAY_VALUES);
          anyScalar(out, element);
          out.end(item);
        }
        out.end(array);
      }
      default -> anyScalar(out, value);
    }
    out.end(any);
    out.end(kv);
  }

  private static void anyScalar(ProtoWriter out, Object value) {
    switch (value) {
      case Long l -> {
        out.tag(ANY_INT, ProtoWriter.VARINT);
        out.varint(l);
      }
      case Double d -> {
        out.tag(ANY_DOUBLE, ProtoWriter.FIXED64);
        out.fixed64(Double.doubleToRawLongBits(d));
      }
      case Boolean b -> {
        out.tag(ANY_BOOL, ProtoWriter.VARINT);
        out.varint(b ? 1 : 0);
      }
      default -> out.string(ANY_STRING, String.valueOf(value));
    }
  }

}
