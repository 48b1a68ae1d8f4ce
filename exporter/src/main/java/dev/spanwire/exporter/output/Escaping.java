package dev.spanwire.exporter.output;

/** Printable renderings of captured bytes. */
public final class Escaping {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private Escaping() {}

  /**
   * Text safe for a terminal: every C0 control (tab and line feed included), DEL and C1 control
   * becomes a visible escape ({@code \x1b}, {@code \u009b}), so a traced process's name or a
   * header cannot move the cursor, erase lines or change colours. The same string when there is
   * nothing to escape.
   */
  public static String terminal(String text) {
    if (text == null) {
      return null;
    }
    int i = 0;
    while (i < text.length() && !control(text.charAt(i))) {
      i++;
    }
    if (i == text.length()) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length() + 8).append(text, 0, i);
    for (; i < text.length(); i++) {
      char c = text.charAt(i);
      if (!control(c)) {
        out.append(c);
      } else if (c < 0x80) {
        out.append("\\x").append(HEX[c >> 4]).append(HEX[c & 0xf]);
      } else {
        out.append("\\u00").append(HEX[c >> 4 & 0xf]).append(HEX[c & 0xf]);
      }
    }
    return out.toString();
  }

  /** C0 controls, DEL and C1 controls. */
  static boolean control(char c) {
    return c < 0x20 || (c >= 0x7f && c <= 0x9f);
  }

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
