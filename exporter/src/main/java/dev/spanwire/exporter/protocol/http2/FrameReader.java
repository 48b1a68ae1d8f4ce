package dev.spanwire.exporter.protocol.http2;

import java.util.Arrays;

/**
 * One direction of an HTTP/2 connection cut into frames (RFC 9113, section 4), fed in any pieces:
 * captured bytes, bytes that moved uncaptured, bytes lost. Every frame but DATA is collected whole
 * (up to {@link #MAX_COLLECTED} bytes; a longer one is reported cut) and handed to the {@link
 * Listener}; DATA is counted by length, only its first bytes kept when the listener asks for them.
 * The client's connection preface is skipped when the stream starts with it.
 *
 * <p>Frame boundaries are known from lengths, so uncaptured bytes inside a frame cost only that
 * frame; when they or a loss cover a frame header, the boundaries are lost: the reader waits for a
 * piece of input that begins with a plausible frame header (writes usually hold whole frames),
 * counts the resync, and goes on.
 */
final class FrameReader {
  static final int DATA = 0;
  static final int HEADERS = 1;
  static final int PRIORITY = 2;
  static final int RST_STREAM = 3;
  static final int SETTINGS = 4;
  static final int PUSH_PROMISE = 5;
  static final int PING = 6;
  static final int GOAWAY = 7;
  static final int WINDOW_UPDATE = 8;
  static final int CONTINUATION = 9;
  static final int FLAG_END_STREAM = 0x1;
  static final int FLAG_ACK = 0x1;
  static final int FLAG_END_HEADERS = 0x4;
  static final int FLAG_PADDED = 0x8;
  static final int FLAG_PRIORITY = 0x20;

  /** Longest non-DATA frame collected (SETTINGS_MAX_FRAME_SIZE can reach 16 MiB; header blocks rarely do). */
  static final int MAX_COLLECTED = 1 << 16;
  static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
  /** Where the preface's "SM" line starts, after what an HTTP/1 parser reads as a request head. */
  private static final int PREFACE_TAIL_AT = "PRI * HTTP/2.0\r\n\r\n".length();

  /** Receives frames in order. */
  interface Listener {
    /** A whole non-DATA frame; {@code cut} when its payload was not all captured (then payload holds what was). */
    void frame(int type, int flags, int stream, byte[] payload, int length, boolean cut, long timestampNanos);

    /** DATA of {@code stream}: {@code count} payload bytes (padding included), the first ones in {@code bytes} when captured. */
    void data(int stream, int flags, byte[] bytes, int offset, int captured, long count, boolean first, boolean last,
        long timestampNanos);

    /** The reader lost the frame boundaries (and so, maybe, header blocks). */
    void lost(long timestampNanos);

    /** A frame broke a rule of RFC 9113 (error {@code code}, see {@link Http2Frames}); it is not reported. */
    void malformed(int type, int code, long timestampNanos);
  }

  private enum State { PREFACE_OR_HEADER, HEADER, PAYLOAD, DATA_PAYLOAD, LOST }

  private final Listener listener;
  private State state;
  private final byte[] header = new byte[9];
  private int headerFill;
  private int type;
  private int flags;
  private int stream;
  private int length;
  private byte[] payload = new byte[256];
  private int payloadFill;
  private long payloadLeft;
  private boolean cut;
  private int prefaceMatched;
  private long resyncs;
  /** The DATA frame under way broke a rule: its bytes go unreported. */
  private boolean dropData;

  /** @param expectPreface whether this direction may begin with the client's connection preface */
  FrameReader(Listener listener, boolean expectPreface, boolean synced) {
    this.listener = listener;
    this.state = !synced ? State.LOST : expectPreface ? State.PREFACE_OR_HEADER : State.HEADER;
  }

  long resyncs() {
    return resyncs;
  }

  boolean lost() {
    return state == State.LOST;
  }

  void feed(byte[] data, int offset, int count, long timestampNanos) {
    int end = offset + count;
    int i = offset;
    if (state == State.LOST) {
      if (!plausibleFrameStart(data, offset, count)) {
        return;
      }
      resyncs++;
      state = State.HEADER;
      headerFill = 0;
    }
    while (i < end) {
      switch (state) {
        case PREFACE_OR_HEADER -> {
          if (prefaceMatched == 0 && data[i] == PREFACE[PREFACE_TAIL_AT]) {
            // the HTTP/1 parser took "PRI * HTTP/2.0" and its empty line (the preface came in
            // pieces, so detection saw HTTP/1) and handed the rest over: "SM\r\n\r\n". No frame
            // can start so (a length of 5 MiB and more, over the 16 KiB a first frame may have).
            prefaceMatched = PREFACE_TAIL_AT;
          }
          if (data[i] == PREFACE[prefaceMatched]) {
            prefaceMatched++;
            i++;
            if (prefaceMatched == PREFACE.length) {
              state = State.HEADER;
            }
          } else if (prefaceMatched == 0) {
            state = State.HEADER;
          } else {
            lose(timestampNanos);
            return;
          }
        }
        case HEADER -> {
          int n = Math.min(9 - headerFill, end - i);
          System.arraycopy(data, i, header, headerFill, n);
          headerFill += n;
          i += n;
          if (headerFill == 9) {
            startFrame(timestampNanos);
          }
        }
        case PAYLOAD -> {
          int n = (int) Math.min(payloadLeft, end - i);
          int room = Math.min(n, payload.length - payloadFill);
          if (room > 0) {
            System.arraycopy(data, i, payload, payloadFill, room);
            payloadFill += room;
          }
          i += n;
          payloadLeft -= n;
          if (payloadLeft == 0) {
            endFrame(timestampNanos);
          }
        }
        case DATA_PAYLOAD -> {
          int n = (int) Math.min(payloadLeft, end - i);
          boolean first = payloadLeft == length;
          if (first && Http2Frames.dataPaddingError(flags, data[i] & 0xff, length)) {
            dropData = true;
            listener.malformed(DATA, Http2Frames.PROTOCOL_ERROR, timestampNanos);
          }
          payloadLeft -= n;
          if (!dropData) {
            listener.data(stream, flags, data, i, n, n, first, payloadLeft == 0, timestampNanos);
          }
          i += n;
          if (payloadLeft == 0) {
            state = State.HEADER;
            headerFill = 0;
          }
        }
        case LOST -> {
          return;
        }
      }
    }
  }

  /** {@code count} bytes moved but were not captured. */
  void skip(long count, long timestampNanos) {
    switch (state) {
      case PAYLOAD -> {
        long n = Math.min(payloadLeft, count);
        cut = true;
        payloadLeft -= n;
        if (payloadLeft == 0) {
          endFrame(timestampNanos);
        }
        if (count > n) {
          lose(timestampNanos); // the next frame header went uncaptured
        }
      }
      case DATA_PAYLOAD -> {
        long n = Math.min(payloadLeft, count);
        boolean first = payloadLeft == length;
        payloadLeft -= n;
        if (!dropData) {
          listener.data(stream, flags, null, 0, 0, n, first, payloadLeft == 0, timestampNanos);
        }
        if (payloadLeft == 0) {
          state = State.HEADER;
          headerFill = 0;
        }
        if (count > n) {
          lose(timestampNanos);
        }
      }
      case LOST -> {}
      default -> lose(timestampNanos);
    }
  }

  /** Bytes lost: {@code count} of them (0: unknown). */
  void gap(long count, long timestampNanos) {
    if (count > 0 && (state == State.DATA_PAYLOAD || state == State.PAYLOAD)) {
      skip(count, timestampNanos); // inside a frame: its length still says where the next begins
      return;
    }
    if (state != State.LOST) {
      lose(timestampNanos);
    }
  }

  private void lose(long timestampNanos) {
    state = State.LOST;
    headerFill = 0;
    listener.lost(timestampNanos);
  }

  private void startFrame(long timestampNanos) {
    length = ((header[0] & 0xff) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff);
    type = header[3] & 0xff;
    flags = header[4] & 0xff;
    stream = ((header[5] & 0x7f) << 24) | ((header[6] & 0xff) << 16) | ((header[7] & 0xff) << 8) | (header[8] & 0xff);
    headerFill = 0;
    payloadLeft = length;
    cut = false;
    dropData = false;
    // a frame longer than the receiver announced is read all the same when the protocol allows
    // its length: real peers send and take them (nghttp's 17 KiB HEADERS to nghttpd), and its
    // length still says where the next frame starts
    int error = Http2Frames.headerError(type, flags, stream, length, Http2Frames.LARGEST_MAX_FRAME_SIZE);
    if (error != Http2Frames.NO_ERROR) {
      // the peer would end the connection here; its lengths are not to be trusted either
      listener.malformed(type, error, timestampNanos);
      lose(timestampNanos);
      return;
    }
    if (type == DATA) {
      if (length == 0) {
        if (Http2Frames.dataPaddingError(flags, 0, 0)) {
          listener.malformed(DATA, Http2Frames.PROTOCOL_ERROR, timestampNanos);
        } else {
          listener.data(stream, flags, null, 0, 0, 0, true, true, timestampNanos);
        }
        return;
      }
      state = State.DATA_PAYLOAD;
      return;
    }
    payloadFill = 0;
    int keep = Math.min(length, MAX_COLLECTED);
    if (payload.length < keep) {
      payload = Arrays.copyOf(payload, Math.max(keep, payload.length * 2));
    }
    if (length > MAX_COLLECTED) {
      cut = true;
    }
    if (length == 0) {
      endFrame(timestampNanos);
      return;
    }
    state = State.PAYLOAD;
  }

  private void endFrame(long timestampNanos) {
    state = State.HEADER;
    headerFill = 0;
    int error = cut ? Http2Frames.NO_ERROR : Http2Frames.payloadError(type, flags, payload, payloadFill);
    if (error != Http2Frames.NO_ERROR) {
      listener.malformed(type, error, timestampNanos);
      return;
    }
    listener.frame(type, flags, stream, payload, payloadFill, cut, timestampNanos);
  }

  /**
   * Whether captured input starting here can be a frame header: a known type, the stream id's
   * reserved bit clear, a length below 16 MiB, stream 0 exactly for the connection's own frames.
   */
  static boolean plausibleFrameStart(byte[] data, int offset, int count) {
    if (count < 9) {
      return false;
    }
    int frameType = data[offset + 3] & 0xff;
    if (frameType > CONTINUATION || (data[offset + 5] & 0x80) != 0) {
      return false;
    }
    int streamId = ((data[offset + 5] & 0x7f) << 24) | ((data[offset + 6] & 0xff) << 16)
        | ((data[offset + 7] & 0xff) << 8) | (data[offset + 8] & 0xff);
    boolean connectionFrame = frameType == SETTINGS || frameType == PING || frameType == GOAWAY;
    if (connectionFrame != (streamId == 0) && frameType != WINDOW_UPDATE) {
      return false;
    }
    int frameLength = ((data[offset] & 0xff) << 16) | ((data[offset + 1] & 0xff) << 8) | (data[offset + 2] & 0xff);
    return frameLength <= count - 9 || frameType == DATA;
  }
}
