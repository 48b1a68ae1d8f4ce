package dev.spanwire.exporter.otel;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Protocol buffers' wire format into one growable array, reused from message to message. A nested
 * message's length is written after its content: one byte is reserved, and only a message of 128
 * bytes or more moves its content to make room for a longer length (no second pass to size it).
 * Used by one thread.
 */
final class ProtoWriter {
  static final int VARINT = 0;
  static final int FIXED64 = 1;
  static final int LEN = 2;
  static final int FIXED32 = 5;

  private byte[] buf;
  private int pos;

  ProtoWriter(int capacity) {
    buf = new byte[capacity];
  }

  int size() {
    return pos;
  }

  /** Back to empty, keeping the array. */
  void reset() {
    pos = 0;
  }

  /**
   * Empty, and back to {@code capacity} when the array grew past {@code kept}: a batch of spans
   * with captured bodies does not keep megabytes after it was sent.
   */
  void release(int kept, int capacity) {
    pos = 0;
    if (buf.length > kept) {
      buf = new byte[capacity];
    }
  }

  /** Back to an earlier size: what was written since is gone (a message that failed half-way). */
  void truncate(int size) {
    pos = size;
  }

  void writeTo(OutputStream out) throws IOException {
    out.write(buf, 0, pos);
  }

  byte[] toByteArray() {
    return Arrays.copyOf(buf, pos);
  }

  private void ensure(int more) {
    if (pos + more > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, pos + more));
    }
  }

  void tag(int field, int wireType) {
    varint((field << 3) | wireType);
  }

  void varint(long value) {
    ensure(10);
    while ((value & ~0x7FL) != 0) {
      buf[pos++] = (byte) ((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    buf[pos++] = (byte) value;
  }

  void fixed64(long value) {
    ensure(8);
    for (int i = 0; i < 8; i++) {
      buf[pos++] = (byte) (value >>> (8 * i));
    }
  }

  void fixed32(int value) {
    ensure(4);
    for (int i = 0; i < 4; i++) {
      buf[pos++] = (byte) (value >>> (8 * i));
    }
  }

  /** Bytes already in wire format (a message encoded once and kept). */
  void raw(byte[] bytes) {
    ensure(bytes.length);
    System.arraycopy(bytes, 0, buf, pos, bytes.length);
    pos += bytes.length;
  }

  /** A field of 8 bytes: two longs big-endian (a trace id), or one (a span id) when {@code count} is 1. */
  void idField(int field, long first, long second, int count) {
    tag(field, LEN);
    varint(8L * count);
    bigEndian(first);
    if (count == 2) {
      bigEndian(second);
    }
  }

  private void bigEndian(long value) {
    ensure(8);
    for (int i = 7; i >= 0; i--) {
      buf[pos++] = (byte) (value >>> (8 * i));
    }
  }

  /**
   * A string field, as UTF-8. The JDK's encoder is used even for ASCII: it checks and copies a
   * whole string at once, several times faster than a loop over its chars.
   */
  void string(int field, String value) {
    tag(field, LEN);
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    varint(bytes.length);
    raw(bytes);
  }

  /** Starts a nested message; returns where its content starts, for {@link #end}. */
  int begin(int field) {
    tag(field, LEN);
    ensure(1);
    pos++; // a one-byte length, grown by end() when the message is longer
    return pos;
  }

  /** Ends the message {@link #begin} started: its length goes before its content. */
  void end(int contentStart) {
    int length = pos - contentStart;
    if (length < 128) {
      buf[contentStart - 1] = (byte) length;
      return;
    }
    int extra = varintSize(length) - 1;
    ensure(extra);
    System.arraycopy(buf, contentStart, buf, contentStart + extra, length);
    pos += extra;
    int at = contentStart - 1;
    long value = length;
    while ((value & ~0x7FL) != 0) {
      buf[at++] = (byte) ((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    buf[at] = (byte) value;
  }

  static int varintSize(long value) {
    int size = 1;
    while ((value & ~0x7FL) != 0) {
      value >>>= 7;
      size++;
    }
    return size;
  }
}
