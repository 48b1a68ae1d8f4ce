package dev.spanwire.exporter.otel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
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
 * gzip (RFC 1952) of a whole message at once, at the fastest level, by the fastest library the
 * system has: Intel's ISA-L ({@code libisal.so.2}, Debian's and Ubuntu's {@code libisal2}), else
 * libdeflate ({@code libdeflate.so.0}, {@code libdeflate0}), else the JDK's zlib.
 *
 * <p>Compression was the largest single cost of span export once the spans were written straight
 * into protobuf: zlib's level 1 ran at 185 MB/s on OTLP requests, a fifth of it spent sliding its
 * hash tables every 32 KB of input; libdeflate, which compresses a buffer whole, ran at 375 MB/s
 * with output as small (35,741 rather than 36,024 bytes of a 259,726-byte request), and was still
 * half of the exporting thread's samples (JFR, {@code bench/export.sh}). ISA-L's level 1
 * (stateless, with its level buffer) compresses the same kind of input in a third of libdeflate's
 * CPU for output 3-4 % larger. libdeflate reads the Java arrays in place (a critical downcall);
 * ISA-L takes its buffers in a struct, so the message is copied to native memory and the result
 * back (two copies of memory bandwidth, against compression at a few hundred MB/s).
 *
 * <p>Not thread-safe: used under a lock. The senders share one ({@link #shared}): each engine's
 * state is large (ISA-L's stream and level buffer 356 KB, then native copies of the largest
 * message and its output), and an instance per request in flight had held ~0.9 MB each, three
 * under {@code bench/load.sh -x}, for compressions that rarely overlap (ISA-L: 0.15 ms for 280 KB
 * of span-like text on this project's 2-core host, one a batch of 512 spans).
 */
final class Gzip implements AutoCloseable {
  /**
   * The native copies kept between messages: a batch of 512 ordinary spans (~280 KB) fits; ones a
   * batch with captured bodies grew to megabytes are let go after it.
   */
  static final long KEPT_NATIVE_BYTES = 1 << 19;

  private static final class Shared {
    static final Gzip GZIP = new Gzip();
  }

  /** The process's instance, made at first use and never closed; use it under its lock. */
  static Gzip shared() {
    return Shared.GZIP;
  }

  /** Who compresses. */
  enum Engine { ISAL, LIBDEFLATE, ZLIB }

  /** gzip's header: magic, deflate, no flags, no time, no extra flags, unknown system. */
  private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};

  /** libdeflate's compressor, or {@link MemorySegment#NULL} when another engine is used. */
  private MemorySegment compressor = MemorySegment.NULL;
  /** ISA-L's stream, level buffer and native copies of the message and its output; ISA-L only. */
  private Arena isalArena;
  private MemorySegment stream;
  private MemorySegment levelBuffer;
  /** The fields of {@code struct isal_zstream} before its internal state, on the heap (see {@link #isal}). */
  private final byte[] header = new byte[IsaL.HEADER_BYTES];
  private Arena bufferArena;
  private MemorySegment nativeIn = MemorySegment.NULL;
  private MemorySegment nativeOut = MemorySegment.NULL;
  private Deflater deflater;
  private final Engine engine;
  private final CRC32 crc = new CRC32();

  /** The fastest engine the system has. */
  Gzip() {
    this(IsaL.UNAVAILABLE == null ? Engine.ISAL : Libdeflate.UNAVAILABLE == null ? Engine.LIBDEFLATE : Engine.ZLIB);
  }

  /** One on {@code engine}, which must be available (tests, comparison). */
  Gzip(Engine engine) {
    String unavailable = unavailable(engine);
    if (unavailable != null) {
      throw new IllegalStateException(unavailable);
    }
    this.engine = engine;
    switch (engine) {
      case ISAL -> {
        isalArena = Arena.ofShared();
        stream = isalArena.allocate(IsaL.STREAM_BYTES, 64);
        levelBuffer = isalArena.allocate(IsaL.LEVEL1_BUFFER_BYTES, 64);
      }
      case LIBDEFLATE -> {
        try {
          compressor = (MemorySegment) Libdeflate.ALLOC.invokeExact(1);
        } catch (Throwable e) {
          throw new IllegalStateException("libdeflate_alloc_compressor", e);
        }
        if (compressor.equals(MemorySegment.NULL)) {
          throw new IllegalStateException("libdeflate_alloc_compressor: out of memory");
        }
      }
      case ZLIB -> deflater = new Deflater(Deflater.BEST_SPEED, true);
    }
  }

  /** Null when {@code engine} can compress here, else why not. */
  static String unavailable(Engine engine) {
    return switch (engine) {
      case ISAL -> IsaL.UNAVAILABLE;
      case LIBDEFLATE -> Libdeflate.UNAVAILABLE;
      case ZLIB -> null;
    };
  }

  /** Who compresses. */
  Engine engine() {
    return engine;
  }

  /** The most bytes {@link #compress} may write for {@code length} bytes of input. */
  int bound(int length) {
    long n = switch (engine) {
      case LIBDEFLATE -> {
        try {
          yield (long) Libdeflate.BOUND.invokeExact(compressor, (long) length);
        } catch (Throwable e) {
          throw new IllegalStateException("libdeflate_gzip_compress_bound", e);
        }
      }
      // what zlib's deflateBound allows for the default window and memory covers ISA-L's stored
      // blocks too (5 bytes per 64 KiB at worst); gzip's header and trailer are 18 bytes
      case ISAL, ZLIB -> (long) length + (length >>> 12) + (length >>> 14) + (length >>> 25) + 13 + 18;
    };
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
    return switch (engine) {
      case ISAL -> isal(in, offset, length, out, at, room);
      case LIBDEFLATE -> libdeflate(in, offset, length, out, at, room);
      case ZLIB -> zlib(in, offset, length, out, at);
    };
  }

  /** Little-endian writes into {@code h}, as the struct is laid out on ISA-L's 64-bit targets (x86-64, arm64). */
  private static void putLong(byte[] h, long at, long value) {
    putInt(h, at, (int) value);
    putInt(h, at + 4, (int) (value >>> 32));
  }

  private static void putInt(byte[] h, long at, int value) {
    putShort(h, at, value);
    putShort(h, at + 2, value >>> 16);
  }

  private static void putShort(byte[] h, long at, int value) {
    h[(int) at] = (byte) value;
    h[(int) at + 1] = (byte) (value >>> 8);
  }

  private int isal(byte[] in, int offset, int length, byte[] out, int at, int room) {
    if (nativeIn.byteSize() < length || nativeOut.byteSize() < room) {
      // grown to the largest message yet (a request is at most a few MiB: larger ones are split)
      if (bufferArena != null) {
        bufferArena.close();
      }
      bufferArena = Arena.ofShared();
      nativeIn = bufferArena.allocate(Math.max(length, nativeIn.byteSize()), 64);
      nativeOut = bufferArena.allocate(Math.max(room, nativeOut.byteSize()), 64);
    }
    MemorySegment.copy(MemorySegment.ofArray(in), offset, nativeIn, 0, length);
    int rc;
    try {
      IsaL.INIT.invokeExact(stream);
      // the fields init set (the Huffman tables, counters, flags) read out and this call's written
      // over them in a copy on the heap, which goes back in one piece: a segment access per field
      // had C1 inline a var handle's chain for each, 20 MB of compiler memory for this method
      MemorySegment.copy(stream, JAVA_BYTE, 0, header, 0, IsaL.HEADER_BYTES);
      putLong(header, IsaL.NEXT_IN, nativeIn.address());
      putInt(header, IsaL.AVAIL_IN, length);
      putLong(header, IsaL.NEXT_OUT, nativeOut.address());
      putInt(header, IsaL.AVAIL_OUT, room);
      putInt(header, IsaL.LEVEL, 1);
      putInt(header, IsaL.LEVEL_BUF_SIZE, (int) levelBuffer.byteSize());
      putLong(header, IsaL.LEVEL_BUF, levelBuffer.address());
      putShort(header, IsaL.END_OF_STREAM, 1);
      putShort(header, IsaL.GZIP_FLAG, IsaL.IGZIP_GZIP);
      MemorySegment.copy(header, 0, stream, JAVA_BYTE, 0, IsaL.HEADER_BYTES);
      rc = (int) IsaL.DEFLATE.invokeExact(stream);
    } catch (Throwable e) {
      throw new IllegalStateException("isal_deflate_stateless", e);
    }
    if (rc != 0) {
      throw new IllegalStateException("isal_deflate_stateless: error " + rc + " for " + length + " bytes into " + room);
    }
    int written = stream.get(JAVA_INT, IsaL.TOTAL_OUT);
    MemorySegment.copy(nativeOut, 0, MemorySegment.ofArray(out), at, written);
    if (nativeIn.byteSize() > KEPT_NATIVE_BYTES) {
      releaseBuffers();
    }
    return written;
  }

  /** The bytes of native copies of a message and its output held between messages (ISA-L; tests). */
  long nativeBytes() {
    return nativeIn.byteSize() + nativeOut.byteSize();
  }

  private void releaseBuffers() {
    if (bufferArena != null) {
      bufferArena.close();
      bufferArena = null;
      nativeIn = MemorySegment.NULL;
      nativeOut = MemorySegment.NULL;
    }
  }

  private int libdeflate(byte[] in, int offset, int length, byte[] out, int at, int room) {
    long written;
    try {
      written = (long) Libdeflate.COMPRESS.invokeExact(compressor, MemorySegment.ofArray(in).asSlice(offset, length),
          (long) length, MemorySegment.ofArray(out).asSlice(at, room), (long) room);
    } catch (Throwable e) {
      throw new IllegalStateException("libdeflate_gzip_compress", e);
    }
    if (written <= 0) {
      throw new IllegalStateException("libdeflate_gzip_compress: no room in " + room + " bytes");
    }
    return (int) written;
  }

  private int zlib(byte[] in, int offset, int length, byte[] out, int at) {
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
        throw new IllegalStateException("deflate needed more than " + (out.length - at) + " bytes");
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
        Libdeflate.FREE.invokeExact(compressor);
      } catch (Throwable e) {
        throw new IllegalStateException("libdeflate_free_compressor", e);
      }
      compressor = MemorySegment.NULL;
    }
    releaseBuffers();
    if (isalArena != null) {
      isalArena.close();
      isalArena = null;
    }
  }

  /**
   * ISA-L's stateless deflate, bound when first used. {@code struct isal_zstream}'s fields are
   * at the offsets of igzip_lib.h (ISA-L 2.25 and later: Debian 12's 2.30, Ubuntu 24.04's 2.31);
   * its internal state, which the library alone touches, makes it 82,384 bytes.
   */
  private static final class IsaL {
    static final long STREAM_BYTES = 82_384;
    static final long NEXT_IN = 0;
    static final long AVAIL_IN = 8;
    static final long NEXT_OUT = 16;
    static final long AVAIL_OUT = 24;
    static final long TOTAL_OUT = 28;
    static final long LEVEL = 40;
    static final long LEVEL_BUF_SIZE = 44;
    static final long LEVEL_BUF = 48;
    static final long END_OF_STREAM = 56;
    static final long GZIP_FLAG = 60;
    static final short IGZIP_GZIP = 1;
    /** Up to and with hist_bits (62): what comes before the internal state. */
    static final int HEADER_BYTES = 64;
    /** ISAL_DEF_LVL1_DEFAULT: level 1's suggested buffer. */
    static final long LEVEL1_BUFFER_BYTES = 282_624;
    static final MethodHandle INIT;
    static final MethodHandle DEFLATE;
    static final String UNAVAILABLE;

    static {
      MethodHandle init = null;
      MethodHandle deflate = null;
      String unavailable = null;
      try {
        Linker linker = Linker.nativeLinker();
        SymbolLookup lib = SymbolLookup.libraryLookup("libisal.so.2", Arena.global());
        init = linker.downcallHandle(lib.findOrThrow("isal_deflate_stateless_init"), FunctionDescriptor.ofVoid(ADDRESS));
        deflate = linker.downcallHandle(lib.findOrThrow("isal_deflate_stateless"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
      } catch (IllegalArgumentException | java.util.NoSuchElementException | IllegalCallerException e) {
        unavailable = "libisal.so.2 not loadable (" + e.getMessage() + ")";
      }
      INIT = init;
      DEFLATE = deflate;
      UNAVAILABLE = unavailable;
    }
  }

  /** libdeflate's whole-buffer gzip, bound when first used. */
  private static final class Libdeflate {
    static final MethodHandle ALLOC;
    static final MethodHandle COMPRESS;
    static final MethodHandle BOUND;
    static final MethodHandle FREE;
    static final String UNAVAILABLE;

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
      }
      ALLOC = alloc;
      COMPRESS = compress;
      BOUND = bound;
      FREE = free;
      UNAVAILABLE = unavailable;
    }
  }
}
