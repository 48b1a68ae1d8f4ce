package dev.spanwire.bpf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Where an ELF file (64-bit, little-endian) defines some functions in its dynamic symbol table: how
 * a TLS library linked into an executable (node has OpenSSL inside) is found, and the file offsets
 * its uprobes go to. The file is mapped, not read, and the names are looked up in its GNU hash table
 * as the dynamic loader does (a pass over every symbol only where there is none): node has 75,000
 * dynamic symbols, and a process started after the agent must be hooked within milliseconds of its
 * exec, not the quarter of a second a pass took (libbpf, given a name, would parse the whole file
 * again for each of the eight probes).
 */
final class ElfSymbols {
  private static final int SHT_DYNSYM = 11;
  private static final int SHT_GNU_HASH = 0x6ffffff6;
  private static final int STT_FUNC = 2;
  private static final int SYMBOL_BYTES = 24;
  private static final int SHN_LORESERVE = 0xff00;
  /** Bounds on what is used: a symbol table this big is not one to trust. */
  private static final long MAX_TABLE_BYTES = 64L << 20;
  private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private ElfSymbols() {}

  /**
   * The file offset of each function of {@code wanted} that {@code file} defines (what a uprobe
   * on it is attached at); empty when it is no ELF file or defines none of them.
   */
  static Map<String, Long> functionOffsets(Path file, Set<String> wanted) throws IOException {
    Map<String, Long> offsets = new HashMap<>();
    functions(file, wanted).forEach((name, function) -> offsets.put(name, function.offset()));
    return offsets;
  }

  /**
   * A function in the file: where it starts, its size as its symbol gives it (0 when unknown), and
   * the file range of the section that holds it (where a call from it may lead).
   */
  record Function(long offset, long size, long sectionOffset, long sectionSize) {
    /** Whether {@code offset} lies in this function's section. */
    boolean sectionHolds(long offset) {
      return offset >= sectionOffset && offset < sectionOffset + sectionSize;
    }
  }

  /** Each function of {@code wanted} that {@code file} defines; empty when it is no ELF file or defines none. */
  static Map<String, Function> functions(Path file, Set<String> wanted) throws IOException {
    Map<String, Function> found = new HashMap<>();
    byte[][] names = wanted.stream().map(n -> n.getBytes(StandardCharsets.ISO_8859_1)).toArray(byte[][]::new);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        Arena arena = Arena.ofConfined()) {
      long size = channel.size();
      if (size < 64) {
        return found;
      }
      MemorySegment elf = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
      if (elf.get(INT, 0) != 0x464c457f || elf.get(ValueLayout.JAVA_BYTE, 4) != 2
          || elf.get(ValueLayout.JAVA_BYTE, 5) != 1) {
        return found; // not ELF, not 64-bit, or not little-endian
      }
      long sectionHeaders = elf.get(LONG, 0x28);
      int entrySize = Short.toUnsignedInt(elf.get(SHORT, 0x3a));
      int count = Short.toUnsignedInt(elf.get(SHORT, 0x3c));
      if (entrySize < 64 || count == 0 || !within(size, sectionHeaders, (long) entrySize * count)) {
        return found;
      }
      MemorySegment sections = elf.asSlice(sectionHeaders, (long) entrySize * count);
      Elf image = new Elf(elf, sections, entrySize, count);
      for (int i = 0; i < count; i++) {
        if (sections.get(INT, (long) i * entrySize + 4) == SHT_GNU_HASH && image.lookUp(i, names, found)) {
          return found;
        }
      }
      for (int i = 0; i < count; i++) {
        if (sections.get(INT, (long) i * entrySize + 4) == SHT_DYNSYM) {
          image.scan(i, names, found);
          return found;
        }
      }
    } catch (InternalError e) {
      // the JVM's word for a fault in mapped memory: the file was cut short while mapped
      throw new IOException(file + " changed while it was read", e);
    }
    return found;
  }

  /** A mapped file's section headers, and what a lookup in them needs. */
  private record Elf(MemorySegment file, MemorySegment sections, int entrySize, int count) {
    private long header(int section, int field) {
      return (long) section * entrySize + field;
    }

    /** Section {@code index}'s bytes, or null when they do not lie inside the file. */
    private MemorySegment section(int index) {
      if (index <= 0 || index >= count) {
        return null;
      }
      return table(file, sections.get(LONG, header(index, 0x18)), sections.get(LONG, header(index, 0x20)));
    }

    /**
     * Looks the names up in a GNU hash table ({@code .gnu.hash}, as the dynamic loader does): a
     * few probes each instead of a pass over every symbol. False when the table is unusable.
     */
    boolean lookUp(int hashSection, byte[][] names, Map<String, Function> found) {
      int symbolSection = sections.get(INT, header(hashSection, 0x28));
      MemorySegment hash = section(hashSection);
      if (hash == null || hash.byteSize() < 16 || symbolSection <= 0 || symbolSection >= count
          || sections.get(INT, header(symbolSection, 4)) != SHT_DYNSYM) {
        return false;
      }
      MemorySegment symbols = section(symbolSection);
      MemorySegment strings = section(sections.get(INT, header(symbolSection, 0x28)));
      long buckets = Integer.toUnsignedLong(hash.get(INT, 0));
      long firstSymbol = Integer.toUnsignedLong(hash.get(INT, 4));
      long bloomWords = Integer.toUnsignedLong(hash.get(INT, 8));
      long bucketsAt = 16 + bloomWords * 8;
      long chainsAt = bucketsAt + buckets * 4;
      if (symbols == null || strings == null || buckets == 0 || chainsAt > hash.byteSize()) {
        return false;
      }
      long symbolCount = symbols.byteSize() / SYMBOL_BYTES;
      for (byte[] name : names) {
        int h = 5381;
        for (byte b : name) {
          h = h * 33 + (b & 0xff);
        }
        long index = Integer.toUnsignedLong(hash.get(INT, bucketsAt + Integer.remainderUnsigned(h, (int) buckets) * 4L));
        if (index == 0 || index < firstSymbol) {
          continue;
        }
        // a chain of hashes for consecutive symbols, the last with its low bit set
        for (long at = chainsAt + (index - firstSymbol) * 4; at + 4 <= hash.byteSize() && index < symbolCount; at += 4, index++) {
          int chained = hash.get(INT, at);
          if ((chained | 1) == (h | 1)) {
            define(symbols, strings, index * SYMBOL_BYTES, new byte[][] {name}, found);
          }
          if ((chained & 1) != 0) {
            break;
          }
        }
      }
      return true;
    }

    /** A pass over every dynamic symbol: files without a GNU hash table. */
    void scan(int symbolSection, byte[][] names, Map<String, Function> found) {
      MemorySegment symbols = section(symbolSection);
      MemorySegment strings = section(sections.get(INT, header(symbolSection, 0x28)));
      if (symbols == null || strings == null) {
        return;
      }
      for (long s = 0; s + SYMBOL_BYTES <= symbols.byteSize(); s += SYMBOL_BYTES) {
        define(symbols, strings, s, names, found);
      }
    }

    /** Records the symbol at {@code s} if it is a defined function named as one of {@code names}. */
    private void define(MemorySegment symbols, MemorySegment strings, long s, byte[][] names, Map<String, Function> found) {
      int type = symbols.get(ValueLayout.JAVA_BYTE, s + 4) & 0xf;
      int sectionIndex = Short.toUnsignedInt(symbols.get(SHORT, s + 6));
      if (type != STT_FUNC || sectionIndex == 0 || sectionIndex >= SHN_LORESERVE || sectionIndex >= count) {
        return;
      }
      byte[] name = match(strings, Integer.toUnsignedLong(symbols.get(INT, s)), names);
      if (name == null) {
        return;
      }
      // as the kernel wants it: the symbol's address in its section, plus where that section lies in the file
      long sectionOffset = sections.get(LONG, header(sectionIndex, 0x18));
      long sectionSize = sections.get(LONG, header(sectionIndex, 0x20));
      long offset = symbols.get(LONG, s + 8) - sections.get(LONG, header(sectionIndex, 0x10)) + sectionOffset;
      if (offset >= 0 && offset < file.byteSize()) {
        long size = Math.max(0, symbols.get(LONG, s + 16));
        found.putIfAbsent(new String(name, StandardCharsets.ISO_8859_1),
            new Function(offset, size, sectionOffset, sectionSize >= 0 && sectionOffset >= 0 && sectionSize <= file.byteSize() - sectionOffset ? sectionSize : 0));
      }
    }
  }

  private static boolean within(long size, long offset, long length) {
    return offset >= 0 && length >= 0 && length <= MAX_TABLE_BYTES && offset <= size - length;
  }

  private static MemorySegment table(MemorySegment elf, long offset, long length) {
    return within(elf.byteSize(), offset, length) ? elf.asSlice(offset, length) : null;
  }

  /** The one of {@code names} the NUL-terminated string at {@code at} spells, or null. */
  private static byte[] match(MemorySegment strings, long at, byte[][] names) {
    long limit = strings.byteSize();
    if (at <= 0 || at >= limit) {
      return null;
    }
    candidates:
    for (byte[] name : names) {
      if (at + name.length >= limit) {
        continue;
      }
      for (int k = 0; k < name.length; k++) {
        if (strings.get(ValueLayout.JAVA_BYTE, at + k) != name[k]) {
          continue candidates;
        }
      }
      if (strings.get(ValueLayout.JAVA_BYTE, at + name.length) == 0) {
        return name;
      }
    }
    return null;
  }
}
