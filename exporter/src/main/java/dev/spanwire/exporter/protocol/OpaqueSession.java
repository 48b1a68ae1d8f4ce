package dev.spanwire.exporter.protocol;

import dev.spanwire.bpf.Direction;

/**
 * A connection that left the protocols Spanwire parses (a WebSocket after 101, a CONNECT tunnel,
 * a protocol not registered): its bytes are taken and not parsed.
 */
public final class OpaqueSession implements ProtocolSession {
  public static final OpaqueSession INSTANCE = new OpaqueSession();

  private OpaqueSession() {}

  @Override
  public int onBytes(Direction direction, byte[] data, int offset, int length, long position, long timestampNanos) {
    return length;
  }

  @Override
  public void onSkipped(Direction direction, long count, long position, long timestampNanos) {}

  @Override
  public void onGap(Direction direction, long count, long position, long timestampNanos) {}

  @Override
  public void onClose(long timestampNanos) {}

  @Override
  public void onStop() {}

  @Override
  public void onEvict() {}
}
