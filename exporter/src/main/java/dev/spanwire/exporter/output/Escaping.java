package dev.spanwire.exporter.output;

/** Printable renderings of captured bytes. */
public final class Escaping {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private Escaping() {}

  /** Appends bytes as ASCII with \r \n \t \" \\ and \xHH escapes. */
  public static void appendEscaped(StringBuilder out, byte[] bytes, int length) {
    for (int i = 0; i < length; i++) {
      int b = bytes[i] & 0xff;
      switch (b) {
        case '\r' -> out.append("\\r");
        case '\n' -> out.append("\\n");
        case '\t' -> out.append("\\t");
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        default -> {
          if (b >= 0x20 && b < 0x7f) {
            out.append((char) b);
          } else {
            out.append("\\x").append(HEX[b >> 4]).append(HEX[b & 0xf]);
          }
        }
      }
    }
  }
}
