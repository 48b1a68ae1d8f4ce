package dev.spanwire.bpf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;

/**
 * Which of some function names an ELF file (64-bit, little-endian) defines in its dynamic symbol
 * table: how a TLS library linked into an executable (node has OpenSSL inside) is found. Reads only
 * the section headers, the dynamic symbols and their strings.
 */
final class ElfSymbols {
  private static final int SHT_DYNSYM = 11;
  private static final int STT_FUNC = 2;
  private static final int SYMBOL_BYTES = 24;
  /** Bounds on what is read: a symbol table this big is not one to trust. */
  private static final long MAX_TABLE_BYTES = 64L << 20;

  private ElfSymbols() {}

  /** The names of {@code wanted} that {@code file} defines as functions; empty when it is no ELF file. */
  static Set<String> defined(Path file, Set<String> wanted) throws IOException {
    Set<String> found = new HashSet<>();
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer header = read(channel, 0, 64);
      if (header == null || header.getInt(0) != 0x464c457f || header.get(4) != 2 || header.get(5) != 1) {
        return found; // not ELF, not 64-bit, or not little-endian
      }
      long sectionHeaders = header.getLong(0x28);
      int entrySize = Short.toUnsignedInt(header.getShort(0x3a));
      int count = Short.toUnsignedInt(header.getShort(0x3c));
      if (entrySize < 64 || count == 0 || (long) entrySize * count > MAX_TABLE_BYTES) {
        return found;
      }
      ByteBuffer sections = read(channel, sectionHeaders, entrySize * count);
      if (sections == null) {
        return found;
      }
      for (int i = 0; i < count; i++) {
        int at = i * entrySize;
        if (sections.getInt(at + 4) != SHT_DYNSYM) {
          continue;
        }
        long symbolsOffset = sections.getLong(at + 0x18);
        long symbolsSize = sections.getLong(at + 0x20);
        int link = sections.getInt(at + 0x28);
        if (link < 0 || link >= count || symbolsSize > MAX_TABLE_BYTES) {
          return found;
        }
        int stringsAt = link * entrySize;
        long stringsOffset = sections.getLong(stringsAt + 0x18);
        long stringsSize = sections.getLong(stringsAt + 0x20);
        if (stringsSize > MAX_TABLE_BYTES) {
          return found;
        }
        ByteBuffer symbols = read(channel, symbolsOffset, (int) symbolsSize);
        ByteBuffer strings = read(channel, stringsOffset, (int) stringsSize);
        if (symbols == null || strings == null) {
          return found;
        }
        for (int s = 0; s + SYMBOL_BYTES <= symbols.limit(); s += SYMBOL_BYTES) {
          int name = symbols.getInt(s);
          int type = symbols.get(s + 4) & 0xf;
          int sectionIndex = Short.toUnsignedInt(symbols.getShort(s + 6));
          if (type == STT_FUNC && sectionIndex != 0 && name > 0 && name < strings.limit()) {
            String symbol = cString(strings, name);
            if (wanted.contains(symbol)) {
              found.add(symbol);
            }
          }
        }
      }
    }
    return found;
  }

  private static ByteBuffer read(FileChannel channel, long offset, int length) throws IOException {
    if (offset < 0 || length < 0 || offset + length > channel.size()) {
      return null;
    }
    ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    while (buffer.hasRemaining()) {
      if (channel.read(buffer, offset + buffer.position()) < 0) {
        return null;
      }
    }
    return buffer.flip();
  }

  private static String cString(ByteBuffer strings, int at) {
    int end = at;
    while (end < strings.limit() && strings.get(end) != 0) {
      end++;
    }
    byte[] bytes = new byte[end - at];
    strings.get(at, bytes);
    return new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
  }
}
