package dev.spanwire.exporter.protocol;

/**
 * Bounds and options every protocol session follows.
 *
 * @param headers the header fields kept of each message
 * @param bodyCaptureBytes body bytes kept per message (0: none)
 * @param maxHeadBytes bound on a header block
 * @param maxPipelined requests waiting for answers, kept in full, per connection
 * @param bodies the heap the bodies under capture may hold together (one per pipeline)
 */
public record ProtocolSettings(
    HeaderSelection headers, int bodyCaptureBytes, int maxHeadBytes, int maxPipelined, BodyBudget bodies) {
  public static final int DEFAULT_MAX_HEAD_BYTES = 64 * 1024;
  public static final int DEFAULT_MAX_PIPELINED = 64;

  public ProtocolSettings {
    if (bodyCaptureBytes < 0 || maxHeadBytes < 256 || maxPipelined < 1) {
      throw new IllegalArgumentException("invalid protocol settings");
    }
  }

  public static ProtocolSettings defaults() {
    return new ProtocolSettings(HeaderSelection.product(), 0, DEFAULT_MAX_HEAD_BYTES, DEFAULT_MAX_PIPELINED, BodyBudget.ofHeap());
  }
}
