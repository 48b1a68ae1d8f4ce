package dev.spanwire.exporter.protocol.http2;

/**
 * HPACK's Huffman code (RFC 7541, Appendix B). The code is canonical: the 257 code lengths below
 * determine every code (shorter codes first, equal lengths in symbol order), so decoding walks the
 * lengths a bit at a time — for the short strings of header fields a table of lengths is enough.
 */
final class Huffman {
  /** Code length of each symbol, 0..255 and EOS (256), from the RFC's table. */
  private static final byte[] LENGTHS = {
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
    30
  };
  private static final int MAX_LENGTH = 30;
  private static final int EOS = 256;
  /** Per code length: the first code of that length, and where its symbols start in SYMBOLS. */
  private static final int[] FIRST_CODE = new int[MAX_LENGTH + 2];
  private static final int[] COUNT = new int[MAX_LENGTH + 2];
  private static final int[] OFFSET = new int[MAX_LENGTH + 2];
  /** Symbols ordered by code length, then value: the canonical order. */
  private static final int[] SYMBOLS = new int[257];

  static {
    for (byte length : LENGTHS) {
      COUNT[length]++;
    }
    int code = 0;
    int offset = 0;
    for (int length = 1; length <= MAX_LENGTH; length++) {
      FIRST_CODE[length] = code;
      OFFSET[length] = offset;
      offset += COUNT[length];
      code = (code + COUNT[length]) << 1;
    }
    int[] next = OFFSET.clone();
    for (int symbol = 0; symbol < LENGTHS.length; symbol++) {
      SYMBOLS[next[LENGTHS[symbol]]++] = symbol;
    }
  }

  private Huffman() {}

  /**
   * Decodes {@code length} bytes at {@code offset} into {@code out} (at most {@code out.length}
   * bytes kept; the rest counted); returns the decoded length, or -1 when the input is not a valid
   * encoding (EOS inside it, or padding that is longer than 7 bits or not all ones).
   */
  static int decode(byte[] in, int offset, int length, byte[] out) {
    int produced = 0;
    int code = 0;
    int bits = 0;
    for (int i = offset; i < offset + length; i++) {
      int b = in[i] & 0xff;
      for (int bit = 7; bit >= 0; bit--) {
        code = (code << 1) | ((b >>> bit) & 1);
        bits++;
        int index = code - FIRST_CODE[bits];
        if (index >= 0 && index < COUNT[bits]) {
          int symbol = SYMBOLS[OFFSET[bits] + index];
          if (symbol == EOS) {
            return -1;
          }
          if (produced < out.length) {
            out[produced] = (byte) symbol;
          }
          produced++;
          code = 0;
          bits = 0;
        } else if (bits >= MAX_LENGTH) {
          return -1;
        }
      }
    }
    // what is left must be a prefix of EOS: at most 7 bits, all ones
    if (bits > 7 || code != (1 << bits) - 1) {
      return -1;
    }
    return produced;
  }
}
