package dev.spanwire.exporter.testing;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Exception;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * One direction of an HTTP/2 connection as a real implementation writes it: header blocks by
 * Netty's HPACK encoder (its dynamic table and Huffman choices, not ours), frame headers written
 * out byte by byte from RFC 9113 section 4.1.
 */
public final class H2Wire {
  public static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
  public static final int DATA = 0;
  public static final int HEADERS = 1;
  public static final int RST_STREAM = 3;
  public static final int SETTINGS = 4;
  public static final int PUSH_PROMISE = 5;
  public static final int GOAWAY = 7;
  public static final int CONTINUATION = 9;
  public static final int END_STREAM = 0x1;
  public static final int END_HEADERS = 0x4;

  private final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();

  /** The HPACK block of these name/value pairs (pseudo-headers first, as given). */
  public byte[] block(String... namesAndValues) {
    Http2Headers headers = new DefaultHttp2Headers(false);
    for (int i = 0; i < namesAndValues.length; i += 2) {
      headers.add(namesAndValues[i], namesAndValues[i + 1]);
    }
    ByteBuf out = Unpooled.buffer();
    try {
      encoder.encodeHeaders(0, headers, out);
    } catch (Http2Exception e) {
      throw new IllegalStateException(e);
    }
    byte[] bytes = new byte[out.readableBytes()];
    out.readBytes(bytes);
    return bytes;
  }

  /** A frame: 24-bit length, type, flags, 31-bit stream id, payload. */
  public static byte[] frame(int type, int flags, int stream, byte[] payload) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int n = payload.length;
    out.write(n >>> 16);
    out.write(n >>> 8);
    out.write(n);
    out.write(type);
    out.write(flags);
    out.write(stream >>> 24 & 0x7f);
    out.write(stream >>> 16);
    out.write(stream >>> 8);
    out.write(stream);
    out.writeBytes(payload);
    return out.toByteArray();
  }

  /** A HEADERS frame holding the whole block. */
  public byte[] headers(int stream, boolean endStream, String... namesAndValues) {
    return frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), stream, block(namesAndValues));
  }

  public static byte[] data(int stream, boolean endStream, String text) {
    return frame(DATA, endStream ? END_STREAM : 0, stream, text.getBytes(StandardCharsets.UTF_8));
  }

  public static byte[] settings() {
    return frame(SETTINGS, 0, 0, new byte[0]);
  }

  public static byte[] rstStream(int stream, int code) {
    return frame(RST_STREAM, 0, stream, new byte[] {0, 0, 0, (byte) code});
  }

  public static byte[] goaway(int lastStream, int code) {
    return frame(GOAWAY, 0, 0, new byte[] {
        (byte) (lastStream >>> 24), (byte) (lastStream >>> 16), (byte) (lastStream >>> 8), (byte) lastStream,
        0, 0, 0, (byte) code});
  }

  /** A gRPC length-prefixed message (uncompressed). */
  public static byte[] grpcMessage(byte[] message) {
    byte[] out = new byte[5 + message.length];
    out[1] = (byte) (message.length >>> 24);
    out[2] = (byte) (message.length >>> 16);
    out[3] = (byte) (message.length >>> 8);
    out[4] = (byte) message.length;
    System.arraycopy(message, 0, out, 5, message.length);
    return out;
  }

  public static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
