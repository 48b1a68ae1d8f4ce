package dev.spanwire.exporter.otel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * Whole-message gzip, by ISA-L, libdeflate and the JDK's zlib: what each writes is what the JDK's
 * own gzip reader (and so a collector's) reads back, from any offset of either array, for empty,
 * tiny, compressible and incompressible messages, one compressor reused across them as a sender
 * does.
 */
class GzipTest {
  @Test
  void theLibrariesAreThereWhereTheSetUpInstalledThem() {
    // scripts/lib.sh installs libisal2 and libdeflate0 with the runtime packages; CI must use them
    if ("true".equals(System.getenv("CI"))) {
      assertNull(Gzip.unavailable(Gzip.Engine.ISAL));
      assertNull(Gzip.unavailable(Gzip.Engine.LIBDEFLATE));
      try (Gzip gzip = new Gzip()) {
        assertEquals(Gzip.Engine.ISAL, gzip.engine());
      }
    }
  }

  @Test
  void whatEitherCompressesTheJdksGzipReadsBack() throws IOException {
    Random random = new Random(7);
    byte[] noise = new byte[300_000];
    random.nextBytes(noise);
    StringBuilder spans = new StringBuilder();
    for (int i = 0; spans.length() < 1_000_000; i++) {
      spans.append("http_method GET http_target /api/items/").append(i).append(" net_peer_ip 127.0.0.").append(i % 250);
    }
    byte[] text = spans.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    for (Gzip.Engine engine : Gzip.Engine.values()) {
      if (Gzip.unavailable(engine) != null) {
        System.out.println("GzipTest: " + engine + " not tested: " + Gzip.unavailable(engine));
        continue;
      }
      try (Gzip gzip = new Gzip(engine)) {
        // the large ones first and again last: a compressor's buffers grown once serve smaller ones
        for (byte[] message : new byte[][] {noise, new byte[0], {42}, text, noise, text}) {
          for (int offset : new int[] {0, 3}) {
            int length = Math.max(0, message.length - offset - 1);
            byte[] out = new byte[7 + gzip.bound(length)];
            int written = gzip.compress(message, Math.min(offset, message.length), length, out, 7);
            byte[] back;
            try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(out, 7, written))) {
              back = in.readAllBytes();
            }
            byte[] expected = java.util.Arrays.copyOfRange(message, Math.min(offset, message.length),
                Math.min(offset, message.length) + length);
            assertArrayEquals(expected, back, engine + ", " + length + " bytes");
            if (message == text && length > 0) {
              assertTrue(written < length / 5, engine + ": compressible text to " + written + " of " + length);
            }
          }
        }
      }
    }
  }

  @Test
  void nativeCopiesOfABatchAreKeptAndOfMegabytesLetGo() throws IOException {
    if (Gzip.unavailable(Gzip.Engine.ISAL) != null) {
      System.out.println("GzipTest: ISA-L's native copies not tested: " + Gzip.unavailable(Gzip.Engine.ISAL));
      return;
    }
    Random random = new Random(11);
    try (Gzip gzip = new Gzip(Gzip.Engine.ISAL)) {
      byte[] batch = new byte[300_000]; // a 512-span batch is about 280 KB
      random.nextBytes(batch);
      byte[] out = new byte[gzip.bound(4_000_000)];
      gzip.compress(batch, 0, batch.length, out, 0);
      // the message's copy and its output room (random bytes: the bound, not the ratio)
      assertEquals(300_000 + gzip.bound(300_000), gzip.nativeBytes(), "kept for the next batch");
      byte[] large = new byte[3_000_000];
      random.nextBytes(large);
      int written = gzip.compress(large, 0, large.length, out, 0);
      assertEquals(0, gzip.nativeBytes(), "megabytes let go");
      try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(out, 0, written))) {
        assertArrayEquals(large, in.readAllBytes());
      }
    }
  }

  @Test
  void tooLittleRoomIsRefusedNotOverrun() {
    for (Gzip.Engine engine : Gzip.Engine.values()) {
      if (Gzip.unavailable(engine) != null) {
        continue;
      }
      try (Gzip gzip = new Gzip(engine)) {
        byte[] out = new byte[10];
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> gzip.compress(new byte[100], 0, 100, out, 5));
        assertTrue(e.getMessage().startsWith("room for 5 bytes"), e.getMessage());
        assertEquals(0, out[9]);
      }
    }
  }

  @Test
  void anEngineTheSystemLacksIsRefusedByName() {
    for (Gzip.Engine engine : Gzip.Engine.values()) {
      String why = Gzip.unavailable(engine);
      if (why != null) {
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> new Gzip(engine));
        assertEquals(why, e.getMessage());
      }
    }
    assertNull(Gzip.unavailable(Gzip.Engine.ZLIB));
  }
}
