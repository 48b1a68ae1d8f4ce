package dev.spanwire.exporter.exchange;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Captured body bytes as text, when they are text. */
public final class BodyText {
  private BodyText() {}

  /**
   * The bytes as a string when they are UTF-8 without control characters other than tab, line
   * feed and carriage return; else null. A body cut short may end inside a character: those last
   * bytes are left out of the text.
   */
  public static String utf8(byte[] body, boolean cut) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(body);
    CharBuffer out = CharBuffer.allocate(body.length);
    CoderResult result = decoder.decode(in, out, !cut);
    if (result.isError()) {
      return null;
    }
    if (!cut) {
      if (decoder.flush(out).isError()) {
        return null;
      }
    } else if (in.remaining() > 3) {
      return null; // more than one incomplete character cannot be a cut
    }
    out.flip();
    for (int i = 0; i < out.length(); i++) {
      char c = out.charAt(i);
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f) {
        return null;
      }
    }
    return out.toString();
  }
}
