package dev.spanwire.exporter.output;

import dev.spanwire.bpf.KernelClock;
import dev.spanwire.exporter.exchange.Exchange;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The live table's columns: the trace_http gadget's fields. The default set is the gadget's
 * ({@code TIMESTAMP COMM PID SRC DST PROTO METHOD HOST PATH STATUS LATENCY}); the others show
 * with {@code --columns}.
 */
public enum Column {
  TIMESTAMP(30, true),
  COMM(15, true),
  PID(7, true),
  TID(7, false),
  UID(6, false),
  GID(6, false),
  SRC(21, true, false),
  DST(21, true, false),
  PROTO(7, true),
  METHOD(7, true),
  HOST(20, true),
  PATH(32, true),
  STATUS(6, true),
  CONTENT_LENGTH(14, false),
  USER_AGENT(24, false),
  /** The exchange's trace (see README, "Trace linking"): rows of one trace share it. */
  TRACE_ID(32, false, false),
  LATENCY(11, true);

  /** The starting width; an uncuttable column widens to its widest value. */
  final int width;
  final boolean shownByDefault;
  /**
   * Whether a wider value is cut with {@code ~}; an address is never cut (its port is at the end),
   * so an IPv6 tuple, up to 47 characters, widens its column instead.
   */
  final boolean cuttable;

  Column(int width, boolean shownByDefault) {
    this(width, shownByDefault, true);
  }

  Column(int width, boolean shownByDefault, boolean cuttable) {
    this.width = width;
    this.shownByDefault = shownByDefault;
    this.cuttable = cuttable;
  }

  /** The gadget's default columns, in its order. */
  public static List<Column> defaults() {
    return Arrays.stream(values()).filter(c -> c.shownByDefault).toList();
  }

  /** The column named {@code name} (case-insensitive, '-' or '_'), or an exception listing all. */
  public static Column of(String name) {
    String normal = name.strip().toUpperCase(Locale.ROOT).replace('-', '_');
    for (Column column : values()) {
      if (column.name().equals(normal)) {
        return column;
      }
    }
    throw new IllegalArgumentException(
        "unknown column '" + name + "', expected some of " + Arrays.stream(values()).map(c -> c.name().toLowerCase(Locale.ROOT)).toList());
  }

  /** The header text. */
  String header() {
    return name();
  }

  /** The row of a TLS connection whose plaintext was not seen: its tuple, process, bytes and time. */
  String value(dev.spanwire.exporter.exchange.OpaqueConnection o, KernelClock clock) {
    var c = o.connection();
    return switch (this) {
      case TIMESTAMP -> Timestamps.rfc3339(clock, o.startNanos());
      case COMM -> c.process().comm();
      case PID -> Integer.toString(c.process().pid());
      case UID -> Integer.toString(c.process().uid());
      case GID -> Integer.toString(c.process().gid());
      case SRC -> Tuples.format(c.client());
      case DST -> Tuples.format(c.server());
      case PROTO -> c.scheme().toUpperCase(Locale.ROOT);
      case PATH -> "(encrypted: " + o.bytesSent() + " B out, " + o.bytesReceived() + " B in)";
      case LATENCY -> Timestamps.millis(o.durationNanos()) + "ms";
      case TID, METHOD, HOST, STATUS, CONTENT_LENGTH, USER_AGENT, TRACE_ID -> "-";
    };
  }

  String value(Exchange e, KernelClock clock) {
    return switch (this) {
      case TIMESTAMP -> Timestamps.rfc3339(clock, e.startNanos());
      case COMM -> e.connection().process().comm();
      case PID -> Integer.toString(e.connection().process().pid());
      case TID -> Integer.toString(e.tid());
      case UID -> Integer.toString(e.connection().process().uid());
      case GID -> Integer.toString(e.connection().process().gid());
      case SRC -> Tuples.format(e.connection().client());
      case DST -> Tuples.format(e.connection().server());
      case PROTO -> e.connection().scheme().toUpperCase(Locale.ROOT) + ("2.0".equals(e.version()) ? "/2" : "");
      case METHOD -> e.request().method();
      case HOST -> e.request().authority() == null ? "-" : e.request().authority();
      case PATH -> e.request().target();
      case STATUS -> e.response() == null ? "-" : Integer.toString(e.response().statusCode());
      case CONTENT_LENGTH -> e.response() == null ? "-" : Long.toString(
          e.response().declaredLength() >= 0 ? e.response().declaredLength() : e.response().bodyBytes());
      case USER_AGENT -> e.request().userAgent() == null ? "-" : e.request().userAgent();
      case TRACE_ID -> e.ids() == null ? "-" : e.ids().traceIdHex();
      case LATENCY -> e.response() == null ? "-" : Timestamps.millis(e.durationNanos()) + "ms";
    };
  }
}
