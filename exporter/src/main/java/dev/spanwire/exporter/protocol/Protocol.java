package dev.spanwire.exporter.protocol;

import dev.spanwire.bpf.Direction;

/**
 * A protocol Spanwire parses: how its connections start, and a session per connection. Register
 * an implementation in {@link Protocols#REGISTERED}.
 */
public interface Protocol {
  /** Its name, e.g. {@code http1}; {@link SessionContext#switchProtocol} names protocols so. */
  String name();

  /** Whether {@code name} (as a switch names protocols) means this protocol. */
  default boolean answersTo(String name) {
    return name().equals(name);
  }

  /** Whether a connection whose first captured bytes (in {@code direction}) are these speaks it. */
  boolean detects(byte[] firstPayload, Direction direction);

  /**
   * Whether these first bytes, too few for {@link #detects}, may still begin this protocol (a
   * client that writes its start a few bytes at a time): the pipeline then waits for more.
   */
  default boolean mayStart(byte[] firstBytes, Direction direction) {
    return false;
  }

  /** A session for one connection. */
  ProtocolSession open(SessionContext context);
}
