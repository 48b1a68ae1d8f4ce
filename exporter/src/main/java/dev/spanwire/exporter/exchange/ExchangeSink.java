package dev.spanwire.exporter.exchange;


/**
 * Receives what the pipeline reports, on the pipeline thread: it must not block (queue and
 * return). The records it gets are immutable and may be kept.
 */
public interface ExchangeSink {
  /**
   * A request completed (AppScope's {@code http-req} moment).
   *
   * @param version the protocol version its exchange will have, as AppScope's {@code http_flavor}
   */
  default void onRequest(ConnectionInfo connection, String version, Request request) {}

  /**
   * Whether this sink does anything with {@link #onRequest}: stages in front of it (the filters,
   * an output's queue) skip the call, and what it costs to make or queue its argument, when not.
   * A sink that overrides {@code onRequest} says true.
   */
  default boolean takesRequests() {
    return false;
  }

  /**
   * The pipeline recognised a connection as HTTP by its first payload (AppScope's protocol
   * detection), when detection events are on.
   *
   * @param fd the traced process's file descriptor of the connection
   * @param timestampNanos kernel time of the payload that decided it
   */
  default void onDetected(ConnectionInfo connection, int fd, long timestampNanos) {}

  /** A TLS connection whose plaintext was never seen ended: one row of metadata, never an exchange. */
  default void onOpaque(OpaqueConnection connection) {}

  /** A request and its response completed (or the request alone, when none came). */
  void onExchange(Exchange exchange);

  /** Pushes buffered output out (called when the sink's input goes quiet). */
  default void flush() {}

  /** Stops, delivering what was queued; called once, at shutdown. */
  default void close() {}

  /** A sink that does nothing. */
  ExchangeSink NONE = exchange -> {};
}
