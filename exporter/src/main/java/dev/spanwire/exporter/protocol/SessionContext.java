package dev.spanwire.exporter.protocol;

import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.Request;
import dev.spanwire.exporter.exchange.SpanIds;

/** What a protocol session may see of and do to its connection; given by the connection stage. */
public interface SessionContext {
  /** The connection as known now. */
  ConnectionInfo connection();

  /**
   * Whether the capture met the connection after its start (a socket from before the agent, or one
   * the pipeline had lost): what came before is unknown.
   */
  boolean joinedMidStream();

  /** The first message told which side the traced process is on. */
  void learnRole(Role role);

  /** The thread that moved this direction's latest bytes. */
  int lastTid(Direction direction);

  /** When this direction's latest bytes moved (kernel monotonic nanoseconds). */
  long lastTimestamp(Direction direction);

  /** A request is complete (AppScope's {@code http-req} moment); {@code version} as its exchange has it. */
  void request(String version, Request request);

  /** The place in a trace of the exchange of this request, decided now, as it is paired. */
  SpanIds ids(Request request);

  /** An exchange is paired, or a request ended without an answer. */
  void exchange(Exchange exchange);

  /**
   * The connection leaves this protocol after the bytes seen so far ({@code protocol} names what
   * follows, e.g. {@code h2c}, {@code tunnel}): the registered session of that name takes over,
   * or none parses it. Counted as an upgrade.
   */
  default void switchProtocol(String protocol) {
    switchProtocol(protocol, null);
  }

  /**
   * As {@link #switchProtocol(String)}, handing over a request the next protocol answers (HTTP/1's
   * {@code Upgrade: h2c} request, answered on HTTP/2's stream 1), or null.
   */
  void switchProtocol(String protocol, Request handedOver);

  /** The request the protocol before this session handed over with the switch, or null. */
  default Request handedOver() {
    return null;
  }

  /**
   * This direction's bytes before {@code position} are body the session skips by length: the
   * capture need not copy them (it still reports their length). A hint; any thread may ignore it.
   */
  default void skipUntil(Direction direction, long position) {}

  ProtocolSettings settings();

  ProtocolStats stats();
}
