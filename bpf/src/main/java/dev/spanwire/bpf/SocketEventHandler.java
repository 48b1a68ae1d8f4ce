package dev.spanwire.bpf;

/**
 * Receives the capture's events, all on the ring buffer reader's thread, in ring buffer order.
 * That thread may own state without locks. A slow handler makes the kernel's ring buffer fill
 * up, and the kernel then counts lost events ({@link CaptureStats#eventsLost}).
 */
public interface SocketEventHandler {
  void onEvent(SocketEvent event);

  /**
   * Called after each drained batch, and at least once per poll interval when idle: the place for
   * time-driven work such as flushing output or expiring idle connections.
   */
  default void afterBatch() {}
}
