package dev.spanwire.exporter.otel;

import io.opentelemetry.sdk.common.export.Compressor;
import io.opentelemetry.sdk.common.export.MessageWriter;
import java.io.IOException;
import java.io.OutputStream;

/**
 * One call's request buffers for {@link GrpcOverHttp2}: the gRPC length-prefixed message (its
 * 5-byte prefix, then the message, compressed when a compressor is set); gzip is the process's
 * one {@link Gzip#shared}. Kept from call to call; one set per call in flight.
 */
final class GrpcMessage {
  /** The buffer's size at first (it grows for a message that needs more). */
  private static final int BUFFER_CAPACITY = 1 << 16;
  /**
   * The most a buffer keeps between calls: gzip's output room for a batch of 512 ordinary spans
   * (a 280 KB message, room for its bound) stays, which growing again for every call made and
   * copied 300 KB a call (a twelfth of the agent's allocation under `bench/load.sh -x`); one a
   * batch with captured bodies grew to megabytes goes back to {@link #BUFFER_CAPACITY}.
   */
  private static final int KEPT_CAPACITY = 1 << 19;

  private final Compressor compressor;
  private final boolean gzip;
  /** A message written in pieces, gathered to be compressed whole. */
  private byte[] staged = new byte[0];
  private int stagedLength;
  /** The gRPC message being sent: its 5-byte prefix, then the (compressed) message. */
  byte[] body = new byte[BUFFER_CAPACITY];
  int bodyLength;

  /** @param compressor the request's compression, null for none; gzip goes through {@link Gzip} */
  GrpcMessage(Compressor compressor) {
    this.compressor = compressor;
    this.gzip = compressor != null && compressor.getEncoding().equals("gzip");
  }

  /** The gRPC length-prefixed message: compressed flag, length, bytes (gRPC's PROTOCOL-HTTP2). */
  void frame(MessageWriter writer) throws IOException {
    bodyLength = 5;
    if (compressor == null) {
      ensure(5L + writer.getContentLength());
      writer.writeMessage(bodyStream());
    } else if (gzip) {
      gzip(writer);
    } else {
      try (OutputStream out = compressor.compress(bodyStream())) {
        writer.writeMessage(out);
      }
    }
    int length = bodyLength - 5;
    body[0] = (byte) (compressor == null ? 0 : 1);
    body[1] = (byte) (length >>> 24);
    body[2] = (byte) (length >>> 16);
    body[3] = (byte) (length >>> 8);
    body[4] = (byte) length;
  }

  /**
   * gzip at the fastest level ({@link Gzip}): OTLP batches repeat the same names and values, so
   * level 1 compresses them nearly as well as the default level 6 (a 512-span batch of 280 KB:
   * 27.2 KB rather than 24.9 KB with zlib) for a third of the CPU. A message written in one piece
   * (the span encoder's) is compressed from the writer's own array; one written in pieces (the
   * SDK's metrics) is gathered first.
   */
  private void gzip(MessageWriter writer) throws IOException {
    int length = writer.getContentLength();
    stagedLength = 0;
    boolean[] done = new boolean[1];
    writer.writeMessage(new OutputStream() {
      @Override
      public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) {
        if (stagedLength == 0 && !done[0] && len == length) {
          compressed(b, off, len);
          done[0] = true;
          return;
        }
        if (done[0]) {
          throw new IllegalStateException("the message was longer than its " + length + " bytes");
        }
        if (staged.length - stagedLength < len) {
          staged = java.util.Arrays.copyOf(staged, Math.max(stagedLength + len, 2 * staged.length));
        }
        System.arraycopy(b, off, staged, stagedLength, len);
        stagedLength += len;
      }
    });
    if (!done[0]) {
      compressed(staged, 0, stagedLength);
    }
  }

  private void compressed(byte[] message, int offset, int length) {
    Gzip gzipper = Gzip.shared();
    synchronized (gzipper) {
      ensure(5L + gzipper.bound(length));
      bodyLength = 5 + gzipper.compress(message, offset, length, body, 5);
    }
  }

  private OutputStream bodyStream() {
    return new OutputStream() {
      @Override
      public void write(int b) {
        ensure(bodyLength + 1L);
        body[bodyLength++] = (byte) b;
      }

      @Override
      public void write(byte[] b, int off, int len) {
        ensure((long) bodyLength + len);
        System.arraycopy(b, off, body, bodyLength, len);
        bodyLength += len;
      }
    };
  }

  private void ensure(long needed) {
    if (needed > Integer.MAX_VALUE - 16) {
      throw new IllegalArgumentException("a gRPC message of " + needed + " bytes");
    }
    if (needed > body.length) {
      body = java.util.Arrays.copyOf(body, (int) Math.max(needed, Math.min(Integer.MAX_VALUE - 16, 2L * body.length)));
    }
  }

  /** Back to the buffers' usual sizes after a call that needed more than they keep. */
  void trim() {
    if (body.length > KEPT_CAPACITY) {
      body = new byte[BUFFER_CAPACITY];
    }
    if (staged.length > KEPT_CAPACITY) {
      staged = new byte[0];
    }
  }
}
