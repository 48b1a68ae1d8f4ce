package dev.spanwire.exporter.protocol;

import dev.spanwire.bpf.Direction;

/**
 * One connection's conversation in one protocol: the connection stage hands it each direction's
 * stream in order (bytes, bytes that moved uncaptured, bytes lost), and it reports requests and
 * exchanges through its {@link SessionContext}. Owned by the pipeline thread.
 */
public interface ProtocolSession {
  /**
   * Captured bytes {@code data[offset, offset + length)} at stream {@code position}, moved at
   * {@code timestampNanos}. Returns how many of them belong to this session: fewer when the
   * connection switched protocols inside them (the rest go to the next session).
   */
  int onBytes(Direction direction, byte[] data, int offset, int length, long position, long timestampNanos);

  /** Bytes that moved at {@code position} but were not captured (beyond the capture size). */
  void onSkipped(Direction direction, long count, long position, long timestampNanos);

  /** Bytes lost at {@code position} ({@code count} 0: an unknown number). */
  void onGap(Direction direction, long count, long position, long timestampNanos);

  /** The connection closed: what is under way ends, what waits is reported. */
  void onClose(long timestampNanos);

  /** The agent stops while the connection goes on: what is under way is reported as far as seen. */
  void onStop();

  /** The connection is dropped without close (idle, table bound): what waits is counted, not reported. */
  void onEvict();
}
