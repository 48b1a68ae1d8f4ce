package dev.spanwire.exporter.protocol.http2;

import dev.spanwire.bpf.Direction;
import dev.spanwire.exporter.protocol.Protocol;
import dev.spanwire.exporter.protocol.ProtocolSession;
import dev.spanwire.exporter.protocol.SessionContext;

/**
 * HTTP/2 (RFC 9113) with prior knowledge, after the HTTP/1 upgrade, or over TLS with ALPN h2: a
 * connection whose first bytes are the client's preface, or a server's first SETTINGS frame.
 */
public final class Http2Protocol implements Protocol {
  public static final Http2Protocol INSTANCE = new Http2Protocol();
  /** The name an HTTP/1 session switches to after the preface. */
  public static final String NAME = "h2";

  private Http2Protocol() {}

  @Override
  public String name() {
    return NAME;
  }

  /** HTTP/1's upgrade names it h2c. */
  @Override
  public boolean answersTo(String name) {
    return NAME.equals(name) || "h2c".equals(name);
  }

  @Override
  public boolean detects(byte[] firstPayload, Direction direction) {
    return startsWithPreface(firstPayload) || startsWithServerSettings(firstPayload) || startsWithHeaders(firstPayload);
  }

  /**
   * A whole HEADERS frame (END_HEADERS; no flags but END_STREAM, PADDED, PRIORITY) of at most the
   * default frame size, on a stream below 2^24: how a connection the capture met late goes on.
   * The kernel's rule, the same.
   */
  static boolean startsWithHeaders(byte[] bytes) {
    if (bytes.length < 9) {
      return false;
    }
    int length = ((bytes[0] & 0xff) << 16) | ((bytes[1] & 0xff) << 8) | (bytes[2] & 0xff);
    int flags = bytes[4] & 0xff;
    int stream = ((bytes[6] & 0xff) << 16) | ((bytes[7] & 0xff) << 8) | (bytes[8] & 0xff);
    return bytes[3] == FrameReader.HEADERS && (flags & FrameReader.FLAG_END_HEADERS) != 0 && (flags & ~0x2d) == 0
        && bytes[5] == 0 && stream != 0 && length > 0 && length <= Http2Frames.DEFAULT_MAX_FRAME_SIZE;
  }

  /** The beginning of the client's preface, too short yet to detect (fewer than 16 bytes). */
  @Override
  public boolean mayStart(byte[] firstBytes, Direction direction) {
    if (firstBytes.length == 0 || firstBytes.length >= 16) {
      return false;
    }
    for (int i = 0; i < firstBytes.length; i++) {
      if (firstBytes[i] != FrameReader.PREFACE[i]) {
        return false;
      }
    }
    return true;
  }

  /** The client's connection preface (RFC 9113, 3.4), a copy of the one the frame reader expects. */
  public static byte[] preface() {
    return FrameReader.PREFACE.clone();
  }

  static boolean startsWithPreface(byte[] bytes) {
    int n = Math.min(bytes.length, FrameReader.PREFACE.length);
    if (n < 16) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      if (bytes[i] != FrameReader.PREFACE[i]) {
        return false;
      }
    }
    return true;
  }

  /** A SETTINGS frame on stream 0, not an ACK, of whole 6-byte settings: how a server's side begins. */
  static boolean startsWithServerSettings(byte[] bytes) {
    if (bytes.length < 9) {
      return false;
    }
    int length = ((bytes[0] & 0xff) << 16) | ((bytes[1] & 0xff) << 8) | (bytes[2] & 0xff);
    return bytes[3] == FrameReader.SETTINGS && bytes[4] == 0 && bytes[5] == 0 && bytes[6] == 0 && bytes[7] == 0
        && bytes[8] == 0 && length % 6 == 0 && length <= 60;
  }

  @Override
  public ProtocolSession open(SessionContext context) {
    return new Http2Session(context);
  }

  @Override
  public String toString() {
    return "HTTP/2";
  }
}
