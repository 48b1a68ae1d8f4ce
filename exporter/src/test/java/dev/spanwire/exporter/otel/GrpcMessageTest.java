package dev.spanwire.exporter.otel;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.sdk.common.export.Compressor;
import io.opentelemetry.sdk.common.export.MessageWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/** The gRPC message's buffers: what a call leaves for the next, and the message they hold. */
class GrpcMessageTest {
  /** Only its name is read: gzip itself is {@link Gzip}'s. */
  private static final Compressor GZIP = new Compressor() {
    @Override
    public String getEncoding() {
      return "gzip";
    }

    @Override
    public OutputStream compress(OutputStream out) {
      throw new UnsupportedOperationException();
    }
  };

  private static MessageWriter writer(byte[] message) {
    return new MessageWriter() {
      @Override
      public void writeMessage(OutputStream out) throws IOException {
        out.write(message, 0, message.length);
      }

      @Override
      public int getContentLength() {
        return message.length;
      }
    };
  }

  /** Random bytes: gzip's bound, not its ratio, sizes the output room. */
  private static byte[] bytes(int size) {
    byte[] b = new byte[size];
    new Random(size).nextBytes(b);
    return b;
  }

  private static byte[] unzipped(GrpcMessage m) throws IOException {
    assertThat(m.body[0]).as("compressed flag").isEqualTo((byte) 1);
    int length = ((m.body[1] & 0xff) << 24) | ((m.body[2] & 0xff) << 16) | ((m.body[3] & 0xff) << 8) | (m.body[4] & 0xff);
    assertThat(length).isEqualTo(m.bodyLength - 5);
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(m.body, 5, length))) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toByteArray();
    }
  }

  @Test
  void aBatchSizedBufferIsKeptFromCallToCallAndABodiesSizedOneGivenBack() throws IOException {
    GrpcMessage m = new GrpcMessage(GZIP);
    byte[] batch = bytes(300_000); // a 512-span batch is about 280 KB
    m.frame(writer(batch));
    assertThat(unzipped(m)).isEqualTo(batch);
    byte[] kept = m.body;
    assertThat(kept.length).as("grown for gzip's bound").isGreaterThan(300_000);
    m.trim();
    assertThat(m.body).as("kept for the next call").isSameAs(kept);
    m.frame(writer(batch));
    assertThat(m.body).as("the next call of that size grows nothing").isSameAs(kept);
    assertThat(unzipped(m)).isEqualTo(batch);

    byte[] large = bytes(3_000_000);
    m.frame(writer(large));
    assertThat(unzipped(m)).isEqualTo(large);
    m.trim();
    assertThat(m.body.length).as("megabytes given back").isEqualTo(1 << 16);
  }

  @Test
  void callsInFlightShareOneCompressor() throws Exception {
    GrpcMessage[] messages = {new GrpcMessage(GZIP), new GrpcMessage(GZIP), new GrpcMessage(GZIP)};
    byte[][] batches = {bytes(300_000), bytes(200_000), bytes(100_000)};
    Thread[] threads = new Thread[messages.length];
    Throwable[] failed = new Throwable[messages.length];
    for (int i = 0; i < messages.length; i++) {
      int n = i;
      threads[i] = Thread.ofPlatform().start(() -> {
        try {
          for (int round = 0; round < 20; round++) {
            messages[n].frame(writer(batches[n]));
            assertThat(unzipped(messages[n])).isEqualTo(batches[n]);
          }
        } catch (Throwable t) {
          failed[n] = t;
        }
      });
    }
    for (Thread t : threads) {
      t.join(60_000);
      assertThat(t.isAlive()).isFalse();
    }
    assertThat(failed).containsOnlyNulls();
  }
}
