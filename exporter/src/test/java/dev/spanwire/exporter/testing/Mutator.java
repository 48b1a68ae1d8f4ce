package dev.spanwire.exporter.testing;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Mutation fuzzing: an input is a seed (a corpus entry or a recorded capture) changed by
 * a few mutations drawn from a random seed — bit flips, bytes that matter to HTTP (CR, LF, colon,
 * space, digits, 0x00, 0x80, 0xff), inserted and deleted runs, duplicated runs, runs spliced in from
 * another seed, integers at their edges, truncation. The draw is reproducible from its Random.
 */
public final class Mutator {
  private static final byte[] INTERESTING = " :\r\n\t0123456789;,/?#%\"\u0000".getBytes(StandardCharsets.ISO_8859_1);
  private static final byte[][] TOKENS = {
    "\r\n".getBytes(StandardCharsets.ISO_8859_1), "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1),
    "Content-Length: ".getBytes(StandardCharsets.ISO_8859_1), "Transfer-Encoding: chunked\r\n".getBytes(StandardCharsets.ISO_8859_1),
    "HTTP/1.1 ".getBytes(StandardCharsets.ISO_8859_1), "GET / HTTP/1.1\r\n".getBytes(StandardCharsets.ISO_8859_1),
    "Upgrade: h2c\r\nConnection: Upgrade\r\n".getBytes(StandardCharsets.ISO_8859_1),
    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1),
    "ffffffffffffffff\r\n".getBytes(StandardCharsets.ISO_8859_1), "99999999999999999999".getBytes(StandardCharsets.ISO_8859_1),
    {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x7f}, {0, 0, 0, 0}, {(byte) 0x3f, (byte) 0xe1, (byte) 0xff, 3},
  };

  private Mutator() {}

  public static byte[] mutate(List<byte[]> seeds, byte[] seed, Random random) {
    byte[] b = seed.clone();
    // mostly one or two, so that many mutants still frame (and chunking is checked on them)
    int mutations = random.nextInt(4) == 0 ? random.nextInt(9) : random.nextInt(3);
    for (int m = 0; m < mutations; m++) {
      b = mutateOnce(seeds, b, random);
    }
    return b;
  }

  private static byte[] mutateOnce(List<byte[]> seeds, byte[] b, Random random) {
    int n = b.length;
    int at = n == 0 ? 0 : random.nextInt(n);
    switch (random.nextInt(9)) {
      case 0 -> {
        if (n > 0) {
          b[at] ^= (byte) (1 << random.nextInt(8));
        }
      }
      case 1 -> {
        if (n > 0) {
          b[at] = INTERESTING[random.nextInt(INTERESTING.length)];
        }
      }
      case 2 -> {
        if (n > 0) {
          b[at] = (byte) random.nextInt(256);
        }
      }
      case 3 -> {
        byte[] run = new byte[1 + random.nextInt(16)];
        random.nextBytes(run);
        return insert(b, at, run);
      }
      case 4 -> {
        int len = Math.min(n - at, 1 + random.nextInt(32));
        return n == 0 ? b : concat(Arrays.copyOfRange(b, 0, at), Arrays.copyOfRange(b, at + len, n));
      }
      case 5 -> {
        int len = Math.min(n - at, 1 + random.nextInt(64));
        return n == 0 ? b : insert(b, at, Arrays.copyOfRange(b, at, at + len));
      }
      case 6 -> {
        byte[] other = seeds.get(random.nextInt(seeds.size()));
        if (other.length > 0) {
          int from = random.nextInt(other.length);
          int len = Math.min(other.length - from, 1 + random.nextInt(128));
          return insert(b, at, Arrays.copyOfRange(other, from, from + len));
        }
      }
      case 7 -> {
        return insert(b, at, TOKENS[random.nextInt(TOKENS.length)]);
      }
      default -> {
        return Arrays.copyOf(b, at);
      }
    }
    return b;
  }

  private static byte[] insert(byte[] b, int at, byte[] run) {
    return concat(Arrays.copyOfRange(b, 0, at), run, Arrays.copyOfRange(b, at, b.length));
  }

  private static byte[] concat(byte[]... parts) {
    int total = 0;
    for (byte[] p : parts) {
      total += p.length;
    }
    byte[] out = new byte[total];
    int i = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, i, p.length);
      i += p.length;
    }
    return out;
  }

  /** {@code bytes} cut into random pieces (1 to 8 bytes, or up to 300), the same bytes in order. */
  public static List<byte[]> pieces(byte[] bytes, Random random) {
    return pieces(bytes, random, 1);
  }

  /** The same, the first piece at least {@code first} bytes (or all there is). */
  public static List<byte[]> pieces(byte[] bytes, Random random, int first) {
    java.util.ArrayList<byte[]> pieces = new java.util.ArrayList<>();
    int i = 0;
    while (i < bytes.length) {
      int n = Math.min(bytes.length - i, Math.max(i == 0 ? first : 1, 1 + random.nextInt(random.nextBoolean() ? 8 : 300)));
      pieces.add(Arrays.copyOfRange(bytes, i, i + n));
      i += n;
    }
    return pieces;
  }
}
