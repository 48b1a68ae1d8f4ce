package dev.spanwire.exporter.protocol.http1;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** HTTP/1's character classes, the methods llhttp knows, and word-at-a-time byte scans. */
final class Http1Syntax {
  private Http1Syntax() {}

  static final boolean[] TOKEN = new boolean[256];
  static final boolean[] TARGET_CHAR = new boolean[256];
  static final boolean[] VALUE_CHAR = new boolean[256];
  static final byte[] HEX = new byte[256];

  static {
    for (int c = '0'; c <= '9'; c++) {
      TOKEN[c] = true;
    }
    for (int c = 'a'; c <= 'z'; c++) {
      TOKEN[c] = true;
      TOKEN[c - 32] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TOKEN[c] = true;
    }
    // visible ASCII; raw UTF-8 is not a valid target (RFC 3986 wants it percent-encoded)
    for (int c = 0x21; c < 0x7f; c++) {
      TARGET_CHAR[c] = true;
    }
    VALUE_CHAR['\t'] = true;
    for (int c = 0x20; c < 256; c++) {
      VALUE_CHAR[c] = c != 0x7f;
    }
    Arrays.fill(HEX, (byte) -1);
    for (int c = '0'; c <= '9'; c++) {
      HEX[c] = (byte) (c - '0');
    }
    for (int c = 'a'; c <= 'f'; c++) {
      HEX[c] = (byte) (c - 'a' + 10);
      HEX[c - 32] = (byte) (c - 'a' + 10);
    }
  }

  static final java.lang.invoke.VarHandle LONGS =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
  static final long ONES = 0x0101010101010101L;
  static final long HIGHS = 0x8080808080808080L;

  /** {@code HTTP/1.1} and {@code HTTP/1.0} as words read by {@link #LONGS}. */
  static final long HTTP_11_WORD = word("HTTP/1.1");
  static final long HTTP_10_WORD = word("HTTP/1.0");

  private static long word(String eight) {
    return (long) LONGS.get(eight.getBytes(StandardCharsets.US_ASCII), 0);
  }

  /** Whether some byte of the word is below {@code n} (n at most 128), bytes of 0x80 and up excluded. */
  static boolean hasByteBelow(long word, int n) {
    return ((word - ONES * n) & ~word & HIGHS) != 0;
  }

  static boolean hasByte(long word, int b) {
    long x = word ^ (ONES * b);
    return ((x - ONES) & ~x & HIGHS) != 0;
  }

  /** Eight header value bytes, none a control byte (CR, LF and tab included) or DEL. */
  static boolean plainValueWord(long word) {
    return !hasByteBelow(word, 0x20) && !hasByte(word, 0x7f);
  }

  /** Eight target bytes, all visible ASCII (0x21 to 0x7e). */
  static boolean plainTargetWord(long word) {
    return (word & HIGHS) == 0 && !hasByteBelow(word, 0x21) && !hasByte(word, 0x7f);
  }

  /** Where the run of target bytes (visible ASCII) from {@code from} ends, at most {@code end}. */
  static int targetEnd(byte[] data, int from, int end) {
    int i = from;
    while (i + 8 <= end && plainTargetWord((long) LONGS.get(data, i))) {
      i += 8;
    }
    while (i < end && TARGET_CHAR[data[i] & 0xff]) {
      i++;
    }
    return i;
  }

  /**
   * Where the run of field-value bytes from {@code from} ends, at most {@code end}: at a CR or any
   * other byte a value may not hold.
   */
  static int valueEnd(byte[] data, int from, int end) {
    int i = from;
    while (i + 8 <= end && plainValueWord((long) LONGS.get(data, i))) {
      i += 8;
    }
    while (i < end) {
      int c = data[i] & 0xff;
      if (c == '\r' || !VALUE_CHAR[c]) {
        break;
      }
      i++;
    }
    return i;
  }

  static final java.util.Set<String> RTSP_ONLY =
      java.util.Set.of(
          "DESCRIBE", "ANNOUNCE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER",
          "SET_PARAMETER", "REDIRECT", "RECORD", "FLUSH");
  static final java.util.Set<String> RTSP_METHODS =
      java.util.Set.of(
          "OPTIONS", "DESCRIBE", "ANNOUNCE", "SETUP", "PLAY", "PAUSE", "TEARDOWN",
          "GET_PARAMETER", "SET_PARAMETER", "REDIRECT", "RECORD", "FLUSH", "GET", "POST");

  /** Methods llhttp knows (HTTP, WebDAV, CalDAV, UPnP, RTSP, ICE and QUERY). */
  static final String[] METHODS = {
    "GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE", "COPY", "LOCK",
    "MKCOL", "MOVE", "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK", "BIND", "REBIND", "UNBIND", "ACL",
    "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE",
    "PURGE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE", "PRI", "QUERY", "DESCRIBE", "ANNOUNCE",
    "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER", "REDIRECT", "RECORD",
    "FLUSH"
  };

  /** By index in {@link #METHODS}: whether HTTP allows the method (RTSP's own are refused). */
  static final boolean[] HTTP_METHOD = new boolean[METHODS.length];

  static {
    for (int i = 0; i < METHODS.length; i++) {
      HTTP_METHOD[i] = !RTSP_ONLY.contains(METHODS[i]);
    }
  }

  static boolean asciiEquals(byte[] bytes, int offset, int length, String ascii) {
    if (length != ascii.length()) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (bytes[offset + i] != ascii.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** ASCII case-insensitive comparison with a lower-case constant. */
  static boolean equalsIgnoreCase(byte[] bytes, int offset, int length, String lower) {
    if (length != lower.length()) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      int c = bytes[offset + i];
      if (c >= 'A' && c <= 'Z') {
        c += 32;
      }
      if (c != lower.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Field bytes as text: UTF-8 when they are valid UTF-8 (what clients send today), else
   * ISO-8859-1, one character a byte (RFC 9110's historical charset), so no byte is ever lost.
   */
  static String text(byte[] bytes, int offset, int length) {
    int i = offset;
    int end = offset + length;
    while (i < end && bytes[i] >= 0) {
      i++;
    }
    if (i == end) {
      return new String(bytes, offset, length, StandardCharsets.ISO_8859_1); // ASCII
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
          .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(bytes, offset, length))
          .toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      return new String(bytes, offset, length, StandardCharsets.ISO_8859_1);
    }
  }

}
