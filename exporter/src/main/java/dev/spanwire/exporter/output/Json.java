package dev.spanwire.exporter.output;

/** Minimal JSON text building: strings escaped per RFC 8259, numbers as Java prints them. */
final class Json {
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private Json() {}

  static void string(StringBuilder out, String value) {
    out.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          // C0, DEL and C1 escaped too: JSON allows them raw, a terminal showing the line obeys them
          if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029) {
            out.append("\\u")
                .append(HEX[(c >> 12) & 0xf])
                .append(HEX[(c >> 8) & 0xf])
                .append(HEX[(c >> 4) & 0xf])
                .append(HEX[c & 0xf]);
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  /** A field value: strings quoted, numbers and booleans bare; non-finite doubles as strings. */
  static void value(StringBuilder out, Object value) {
    switch (value) {
      case String s -> string(out, s);
      case Double d when d.isNaN() || d.isInfinite() -> string(out, d.toString());
      case Number n -> out.append(n);
      case Boolean b -> out.append(b);
      default -> string(out, String.valueOf(value));
    }
  }
}
