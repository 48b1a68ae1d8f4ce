package dev.spanwire.exporter.otel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * gzip (RFC 1952) of a whole message at once, at the fastest level: with libdeflate where the
 * system has it ({@code libdeflate.so.0}, Debian's and Ubuntu's {@code libdeflate0}), else with
 * the JDK's zlib.
 *
 * <p>Compression was the largest single cost of span export once the spans were written straight
 * into protobuf (a third of the exporting process's CPU): zlib's level 1 ran at 185 MB/s on OTLP
 * requests, a fifth of it spent sliding its hash tables every 32 KB of input; libdeflate, which
 * compresses a buffer whole, ran at 375 MB/s with output as small (35,741 rather than 36,024 bytes
 * of a 259,726-byte request). The message is passed to libdeflate in place (a critical downcall
 * reads the Java array), so nothing is copied on the way.
 *
 * <p>Not thread-safe: one per sender, used under its lock.
 */
final class Gzip implements AutoCloseable {
  private static final MethodHandle ALLOC;
  private static final MethodHandle COMPRESS;
  private static final MethodHandle BOUND;
  private static final MethodHandle FREE;
  /** Why libdeflate is not used; null when it is. */
  private static final String UNAVAILABLE;
  /** gzip's header: magic, deflate, no flags, no time, no extra flags, unknown system. */
  private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};

  static {
    MethodHandle alloc = null;
    MethodHandle compress = null;
    MethodHandle bound = null;
    MethodHandle free = null;
    String unavailable = null;
    try {
      Linker linker = Linker.nativeLinker();
      SymbolLookup lib = SymbolLookup.libraryLookup("libdeflate.so.0", Arena.global());
      alloc = linker.downcallHandle(lib.findOrThrow("libdeflate_alloc_compressor"), FunctionDescriptor.of(ADDRESS, JAVA_INT));
      compress = linker.downcallHandle(lib.findOrThrow("libdeflate_gzip_compress"),
          FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG), Linker.Option.critical(true));
      bound = linker.downcallHandle(lib.findOrThrow("libdeflate_gzip_compress_bound"),
          FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG));
      free = linker.downcallHandle(lib.findOrThrow("libdeflate_free_compressor"), FunctionDescriptor.ofVoid(ADDRESS));
    } catch (IllegalArgumentException | java.util.NoSuchElementException | IllegalCallerException e) {
      unavailable = "libdeflate.so.0 not loadable (" + e.getMessage() + ")";
      alloc = null;
    }
    ALLOC = alloc;
    COMPRESS = compress;
    BOUND = bound;
    FREE = free;
    UNAVAILABLE = unavailable;
  }

  /** libdeflate's compressor, or {@link MemorySegment#NULL} when the JDK's zlib is used. */
  private MemorySegment compressor = MemorySegment.NULL;
  private Deflater deflater;
  private final boolean libdeflate;
  private final CRC32 crc = new CRC32();

  Gzip() {
    this(true);
  }

  /** One that uses the JDK's zlib even where libdeflate is there (tests, comparison). */
  static Gzip jdkOnly() {
    return new Gzip(false);
  }

  private Gzip(boolean mayUseLibdeflate) {
    if (ALLOC != null && mayUseLibdeflate) {
      try {
        compressor = (MemorySegment) ALLOC.invokeExact(1);
      } catch (Throwable e) {
        throw new IllegalStateException("libdeflate_alloc_compressor", e);
      }
    }
    libdeflate = !compressor.equals(MemorySegment.NULL);
    if (!libdeflate) {
      deflater = new Deflater(Deflater.BEST_SPEED, true);
    }
  }

  /** Null when libdeflate compresses, else why the JDK's zlib does. */
  static String libdeflateUnavailable() {
    return UNAVAILABLE;
  }

  /** Whether libdeflate compresses (else the JDK's zlib). */
  boolean usesLibdeflate() {
    return libdeflate;
  }

  /** The most bytes {@link #compress} may write for {@code length} bytes of input. */
  int bound(int length) {
    long n;
    if (libdeflate) {
      try {
        n = (long) BOUND.invokeExact(compressor, (long) length);
      } catch (Throwable e) {
        throw new IllegalStateException("libdeflate_gzip_compress_bound", e);
      }
    } else {
      // zlib's deflateBound for the default window and memory, and gzip's 18 bytes
      n = (long) length + (length >>> 12) + (length >>> 14) + (length >>> 25) + 13 + 18;
    }
    if (n > Integer.MAX_VALUE - 64) {
      throw new IllegalArgumentException("a message of " + length + " bytes is too large to compress");
    }
    return (int) n;
  }

  /**
   * Compresses {@code in[offset, offset + length)} into {@code out} from {@code at}, which has
   * room for {@link #bound}{@code (length)} bytes; returns the bytes written.
   */
  int compress(byte[] in, int offset, int length, byte[] out, int at) {
    int room = bound(length);
    if (out.length - at < room) {
      throw new IllegalArgumentException("room for " + (out.length - at) + " bytes, " + room + " needed");
    }
    if (libdeflate) {
      long written;
      try {
        written = (long) COMPRESS.invokeExact(compressor, MemorySegment.ofArray(in).asSlice(offset, length), (long) length,
            MemorySegment.ofArray(out).asSlice(at, room), (long) room);
      } catch (Throwable e) {
        throw new IllegalStateException("libdeflate_gzip_compress", e);
      }
      if (written <= 0) {
        throw new IllegalStateException("libdeflate_gzip_compress: no room in " + room + " bytes");
      }
      return (int) written;
    }
    deflater.reset();
    deflater.setInput(in, offset, length);
    deflater.finish();
    crc.reset();
    crc.update(in, offset, length);
    System.arraycopy(HEADER, 0, out, at, HEADER.length);
    int end = at + HEADER.length;
    while (!deflater.finished()) {
      int n = deflater.deflate(out, end, out.length - end);
      if (n == 0 && end == out.length) {
        throw new IllegalStateException("deflate needed more than " + room + " bytes");
      }
      end += n;
    }
    int value = (int) crc.getValue();
    for (int i = 0; i < 4; i++) {
      out[end + i] = (byte) (value >>> (8 * i));
      out[end + 4 + i] = (byte) (length >>> (8 * i));
    }
    return end + 8 - at;
  }

  @Override
  public void close() {
    if (deflater != null) {
      deflater.end();
      deflater = null;
    }
    if (!compressor.equals(MemorySegment.NULL)) {
      try {
        FREE.invokeExact(compressor);
      } catch (Throwable e) {
        throw new IllegalStateException("libdeflate_free_compressor", e);
      }
      compressor = MemorySegment.NULL;
    }
  }
}
