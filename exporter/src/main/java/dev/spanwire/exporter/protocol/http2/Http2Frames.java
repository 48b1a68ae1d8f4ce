package dev.spanwire.exporter.protocol.http2;

/**
 * The rules of RFC 9113 section 6 a frame must keep, and where its parts lie: a frame that breaks
 * one is a connection error to its receiver, so a tracer does not read it either. Codes are the
 * RFC's error codes.
 */
final class Http2Frames {
  static final int NO_ERROR = 0;
  static final int PROTOCOL_ERROR = 1;
  static final int REFUSED_STREAM = 7;
  static final int FRAME_SIZE_ERROR = 6;
  static final int CANCEL = 8;
  /** SETTINGS_MAX_FRAME_SIZE until a peer raises it (section 6.5.2). */
  static final int DEFAULT_MAX_FRAME_SIZE = 1 << 14;
  /** The largest SETTINGS_MAX_FRAME_SIZE a peer may announce. */
  static final int LARGEST_MAX_FRAME_SIZE = (1 << 24) - 1;

  private Http2Frames() {}

  /**
   * The error a frame header alone shows: a frame longer than the receiver allows, a stream frame
   * on stream 0 or a connection frame on a stream, a fixed-size frame of another size.
   */
  static int headerError(int type, int flags, int streamId, int length, int maxFrameSize) {
    if (length > maxFrameSize) {
      return FRAME_SIZE_ERROR;
    }
    return switch (type) {
      case FrameReader.DATA, FrameReader.HEADERS, FrameReader.CONTINUATION, FrameReader.PUSH_PROMISE ->
          streamId == 0 ? PROTOCOL_ERROR : NO_ERROR;
      case FrameReader.PRIORITY -> streamId == 0 ? PROTOCOL_ERROR : length != 5 ? FRAME_SIZE_ERROR : NO_ERROR;
      case FrameReader.RST_STREAM -> streamId == 0 ? PROTOCOL_ERROR : length != 4 ? FRAME_SIZE_ERROR : NO_ERROR;
      case FrameReader.SETTINGS -> streamId != 0 ? PROTOCOL_ERROR
          : (flags & FrameReader.FLAG_ACK) != 0 ? (length != 0 ? FRAME_SIZE_ERROR : NO_ERROR)
          : length % 6 != 0 ? FRAME_SIZE_ERROR : NO_ERROR;
      case FrameReader.PING -> streamId != 0 ? PROTOCOL_ERROR : length != 8 ? FRAME_SIZE_ERROR : NO_ERROR;
      case FrameReader.GOAWAY -> streamId != 0 ? PROTOCOL_ERROR : length < 8 ? FRAME_SIZE_ERROR : NO_ERROR;
      case FrameReader.WINDOW_UPDATE -> length != 4 ? FRAME_SIZE_ERROR : NO_ERROR;
      default -> NO_ERROR; // unknown types are ignored (section 4.1)
    };
  }

  /**
   * The error a whole non-DATA payload shows: padding not shorter than the payload, a promised
   * stream of zero or of the client's (odd) numbers, a window increment of zero.
   */
  static int payloadError(int type, int flags, byte[] payload, int length) {
    switch (type) {
      case FrameReader.HEADERS, FrameReader.PUSH_PROMISE -> {
        if (fragmentStart(type, flags, payload, length) > fragmentEnd(type, flags, payload, length)) {
          return PROTOCOL_ERROR;
        }
        if (type == FrameReader.PUSH_PROMISE) {
          int promised = u31(payload, (flags & FrameReader.FLAG_PADDED) != 0 ? 1 : 0);
          if (promised == 0 || (promised & 1) == 1) {
            return PROTOCOL_ERROR;
          }
        }
        return NO_ERROR;
      }
      case FrameReader.WINDOW_UPDATE -> {
        return u31(payload, 0) == 0 ? PROTOCOL_ERROR : NO_ERROR;
      }
      default -> {
        return NO_ERROR;
      }
    }
  }

  /** Whether a DATA frame of {@code length} bytes whose first byte is {@code padLength} pads too much. */
  static boolean dataPaddingError(int flags, int padLength, long length) {
    return (flags & FrameReader.FLAG_PADDED) != 0 && (length == 0 || padLength >= length);
  }

  /** The pad length of a padded HEADERS, PUSH_PROMISE or DATA frame, else 0. */
  static int padLength(int flags, byte[] payload, int length) {
    return (flags & FrameReader.FLAG_PADDED) != 0 && length > 0 ? payload[0] & 0xff : 0;
  }

  /** Where a HEADERS or PUSH_PROMISE frame's header block fragment starts. */
  static int fragmentStart(int type, int flags, byte[] payload, int length) {
    int start = (flags & FrameReader.FLAG_PADDED) != 0 ? 1 : 0;
    if (type == FrameReader.PUSH_PROMISE) {
      start += 4;
    } else if (type == FrameReader.HEADERS && (flags & FrameReader.FLAG_PRIORITY) != 0) {
      start += 5;
    }
    return start;
  }

  /** Where a HEADERS or PUSH_PROMISE frame's fragment ends (its padding starts); below the start when padded wrong. */
  static int fragmentEnd(int type, int flags, byte[] payload, int length) {
    if ((flags & FrameReader.FLAG_PADDED) == 0) {
      return length;
    }
    if (length == 0) {
      return -1;
    }
    return length - padLength(flags, payload, length);
  }

  /** The 31-bit number at {@code offset} (a stream id, increment), its reserved bit dropped. */
  static int u31(byte[] bytes, int offset) {
    return (int) (u32(bytes, offset) & 0x7fffffffL);
  }

  /** The 32-bit unsigned number at {@code offset}. */
  static long u32(byte[] bytes, int offset) {
    return ((long) (bytes[offset] & 0xff) << 24) | ((bytes[offset + 1] & 0xff) << 16)
        | ((bytes[offset + 2] & 0xff) << 8) | (bytes[offset + 3] & 0xff);
  }

  /** The 16-bit unsigned number at {@code offset}. */
  static int u16(byte[] bytes, int offset) {
    return ((bytes[offset] & 0xff) << 8) | (bytes[offset + 1] & 0xff);
  }
}
