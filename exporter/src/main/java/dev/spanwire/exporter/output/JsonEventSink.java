package dev.spanwire.exporter.output;

import dev.spanwire.bpf.KernelClock;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.ExchangeFields;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.Field;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.exchange.Request;
import dev.spanwire.semconv.NamingScheme;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.List;

/**
 * {@code --output json}: one JSON object per line in AppScope's event shape, an {@code http-req}
 * event when a request completes and an {@code http-resp} event when its response does:
 *
 * <pre>{"type":"evt","id":"host-proc-cmd","_channel":"42","body":{"sourcetype":"http",
 * "_time":1763810611.786422,"source":"http-req","host":"host","proc":"curl","cmd":"curl ...",
 * "pid":123,"data":{"http_method":"GET",...}}}</pre>
 *
 * Data fields carry AppScope's names whatever the span naming scheme.
 */
public final class JsonEventSink implements ExchangeSink {
  public static final String REQUEST_SOURCE = "http-req";
  public static final String RESPONSE_SOURCE = "http-resp";
  public static final String DETECTION_SOURCE = "remote_protocol";

  /** Decides which data fields an event keeps; the identity by default. */
  public interface EventFilter {
    /** The fields to write, or null to drop the event. */
    List<Field> apply(String source, List<Field> fields);

    /** Whether any event of {@code source} may be written (false: none ever is). */
    default boolean emits(String source) {
      return true;
    }

    EventFilter ALL = (source, fields) -> fields;
  }

  private final Writer out;
  private final KernelClock clock;
  private final String hostname;
  private final EventFilter filter;
  private final ExchangeFields fields;
  private final boolean traceIds;
  private final StringBuilder line = new StringBuilder(1024);

  /**
   * @param fields how data fields are made; their scheme must be AppScope's
   * @param filter which events are written and what fields they keep
   */
  public JsonEventSink(Writer out, KernelClock clock, String hostname, ExchangeFields fields, EventFilter filter) {
    this(out, clock, hostname, fields, filter, false);
  }

  /**
   * @param traceIds add trace_id, span_id and parent_span_id (when there is a parent) to each
   *     http-resp event's data
   */
  public JsonEventSink(
      Writer out, KernelClock clock, String hostname, ExchangeFields fields, EventFilter filter, boolean traceIds) {
    if (fields.scheme() != NamingScheme.APPSCOPE) {
      throw new IllegalArgumentException("JSON events carry AppScope's names, not " + fields.scheme());
    }
    this.out = out;
    this.clock = clock;
    this.hostname = hostname;
    this.fields = fields;
    this.filter = filter;
    this.traceIds = traceIds;
  }

  @Override
  public void onRequest(ConnectionInfo connection, String version, Request request) {
    write(connection, REQUEST_SOURCE, request.endNanos(), fields.request(connection, version, request));
  }

  @Override
  public boolean takesRequests() {
    return filter.emits(REQUEST_SOURCE);
  }

  @Override
  public void onExchange(Exchange exchange) {
    if (exchange.response() != null) {
      List<Field> data = fields.exchange(exchange);
      if (traceIds && exchange.ids() != null) {
        data = new java.util.ArrayList<>(data);
        data.add(new Field("trace_id", exchange.ids().traceIdHex()));
        data.add(new Field("span_id", exchange.ids().spanIdHex()));
        if (exchange.ids().hasParent()) {
          data.add(new Field("parent_span_id", exchange.ids().parentSpanIdHex()));
        }
      }
      write(exchange.connection(), RESPONSE_SOURCE, exchange.response().endNanos(), data);
    }
  }

  /** AppScope's protocol detection event: {@code remote_protocol}, source type {@code net}. */
  @Override
  public void onDetected(ConnectionInfo connection, int fd, long timestampNanos) {
    ProcessInfo process = connection.process();
    List<Field> data = List.of(
        new Field("proc", process.comm()), new Field("pid", (long) process.pid()), new Field("fd", (long) fd),
        new Field("host", hostname), new Field("protocol", "HTTP"));
    writeEvent(connection, "net", DETECTION_SOURCE, timestampNanos, data);
  }

  /**
   * A TLS connection whose plaintext was not seen: AppScope's {@code net.close} event (source type
   * {@code net}) with the tuple, the protocol, the duration and the bytes each way.
   */
  @Override
  public void onOpaque(dev.spanwire.exporter.exchange.OpaqueConnection opaque) {
    ConnectionInfo c = opaque.connection();
    List<Field> data = List.of(
        new Field("net_transport", "IP.TCP"),
        new Field("net_peer_ip", dev.spanwire.exporter.exchange.Addresses.text(c.remote().getAddress())),
        new Field("net_peer_port", (long) c.remote().getPort()),
        new Field("net_host_ip", dev.spanwire.exporter.exchange.Addresses.text(c.local().getAddress())),
        new Field("net_host_port", (long) c.local().getPort()),
        new Field("net_protocol", c.scheme()),
        new Field("duration", opaque.durationNanos() / 1_000_000L),
        new Field("net_tx", opaque.bytesSent()),
        new Field("net_rx", opaque.bytesReceived()));
    writeEvent(c, "net", "net.close", opaque.endNanos(), data);
  }

  private void write(ConnectionInfo connection, String source, long nanos, List<Field> data) {
    data = filter.apply(source, data);
    if (data != null) {
      writeEvent(connection, "http", source, nanos, data);
    }
  }

  /** AppScope's HTTP events write the ports as strings ("net_peer_port":"443"); other events as numbers. */
  private static boolean textInHttpEvents(String field) {
    return field.equals("net_peer_port") || field.equals("net_host_port");
  }

  private void writeEvent(ConnectionInfo connection, String sourceType, String source, long nanos, List<Field> data) {
    ProcessInfo process = connection.process();
    line.setLength(0);
    line.append("{\"type\":\"evt\",\"id\":");
    Json.string(line, hostname + "-" + process.comm() + "-" + process.commandLine());
    line.append(",\"_channel\":");
    Json.string(line, Long.toString(connection.id()));
    line.append(",\"body\":{\"sourcetype\":");
    Json.string(line, sourceType);
    line.append(",\"_time\":").append(Timestamps.epochSeconds(clock, nanos));
    line.append(",\"source\":");
    Json.string(line, source);
    line.append(",\"host\":");
    Json.string(line, hostname);
    line.append(",\"proc\":");
    Json.string(line, process.comm());
    line.append(",\"cmd\":");
    Json.string(line, process.commandLine());
    line.append(",\"pid\":").append(process.pid());
    line.append(",\"data\":{");
    for (int i = 0; i < data.size(); i++) {
      if (i > 0) {
        line.append(',');
      }
      Field field = data.get(i);
      Json.string(line, field.name());
      line.append(':');
      if (sourceType.equals("http") && field.value() instanceof Number port && textInHttpEvents(field.name())) {
        Json.string(line, port.toString());
      } else {
        Json.value(line, field.value());
      }
    }
    line.append("}}}\n");
    try {
      out.append(line);
    } catch (IOException e) {
      throw new UncheckedIOException("write json event", e);
    }
  }

  @Override
  public void flush() {
    try {
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("flush json events", e);
    }
  }

  @Override
  public void close() {
    flush();
  }
}
