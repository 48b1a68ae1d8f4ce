package dev.spanwire.exporter.protocol.http2;

import java.nio.charset.StandardCharsets;

/**
 * HPACK (RFC 7541) for one direction of one connection: the static table, a dynamic table bounded
 * by the size the peer allowed, size updates, Huffman strings. Strict and bounded: a block that
 * breaks the format is refused whole ({@link #decode} returns false), strings and the field list
 * are bounded.
 *
 * <p>A decoder that met the connection after its start, or missed a header block, does not know
 * its dynamic table: a reference it cannot resolve gives an unknown field ({@code null} name and
 * value), counted, and from then on every dynamic-table reference is unknown too — it never gives
 * a wrong value. Static-table and literal fields still decode. A size update to 0 empties the
 * table, which makes it known again.
 */
public final class HpackDecoder {
  /** Receives a block's fields in order; {@code null} name and value for one that cannot be known. */
  public interface FieldSink {
    void field(String name, String value);
  }

  static final int DEFAULT_TABLE_SIZE = 4096;
  /** The most any peer may make the table: a size update above this is refused. */
  static final int MAX_TABLE_SIZE = 1 << 16;
  /** Longest string decoded (name or value). */
  static final int MAX_STRING = 1 << 16;

  private static final String[][] STATIC = {
    {":authority", ""}, {":method", "GET"}, {":method", "POST"}, {":path", "/"}, {":path", "/index.html"},
    {":scheme", "http"}, {":scheme", "https"}, {":status", "200"}, {":status", "204"}, {":status", "206"},
    {":status", "304"}, {":status", "400"}, {":status", "404"}, {":status", "500"}, {"accept-charset", ""},
    {"accept-encoding", "gzip, deflate"}, {"accept-language", ""}, {"accept-ranges", ""}, {"accept", ""},
    {"access-control-allow-origin", ""}, {"age", ""}, {"allow", ""}, {"authorization", ""},
    {"cache-control", ""}, {"content-disposition", ""}, {"content-encoding", ""}, {"content-language", ""},
    {"content-length", ""}, {"content-location", ""}, {"content-range", ""}, {"content-type", ""},
    {"cookie", ""}, {"date", ""}, {"etag", ""}, {"expect", ""}, {"expires", ""}, {"from", ""}, {"host", ""},
    {"if-match", ""}, {"if-modified-since", ""}, {"if-none-match", ""}, {"if-range", ""},
    {"if-unmodified-since", ""}, {"last-modified", ""}, {"link", ""}, {"location", ""}, {"max-forwards", ""},
    {"proxy-authenticate", ""}, {"proxy-authorization", ""}, {"range", ""}, {"referer", ""}, {"refresh", ""},
    {"retry-after", ""}, {"server", ""}, {"set-cookie", ""}, {"strict-transport-security", ""},
    {"transfer-encoding", ""}, {"user-agent", ""}, {"vary", ""}, {"via", ""}, {"www-authenticate", ""}
  };

  // the dynamic table: a ring, newest at head
  private String[] names = new String[16];
  private String[] values = new String[16];
  private int[] sizes = new int[16];
  private int head;
  private int count;
  private int size;
  private int maxSize = DEFAULT_TABLE_SIZE;
  /** The bound the receiving side's SETTINGS_HEADER_TABLE_SIZE set. */
  private int allowedSize = DEFAULT_TABLE_SIZE;
  private boolean trusted;
  private long unknownFields;
  private int position;
  private final byte[] scratch = new byte[MAX_STRING];

  /** @param trusted false for a connection met in its middle: its table is unknown */
  public HpackDecoder(boolean trusted) {
    this.trusted = trusted;
  }

  /** The receiving side's SETTINGS_HEADER_TABLE_SIZE: the most a size update may ask for. */
  void allowTableSize(long bytes) {
    allowedSize = (int) Math.min(MAX_TABLE_SIZE, Math.max(0, bytes));
  }

  /** Whether the dynamic table is known. */
  boolean trusted() {
    return trusted;
  }

  /** Bytes the dynamic table holds (RFC 7541 4.1: each entry its name and value octets and 32). */
  int tableSize() {
    return size;
  }

  /** Entries in the dynamic table. */
  int tableEntries() {
    return count;
  }

  /** Fields given as unknown so far. */
  long unknownFields() {
    return unknownFields;
  }

  /** The table is no longer known (a header block was lost): references to it give unknown fields. */
  void desync() {
    trusted = false;
  }

  /** Decodes one complete header block; false when it breaks the format (the table is then unknown). */
  public boolean decode(byte[] block, int offset, int length, FieldSink sink) {
    position = offset;
    int end = offset + length;
    boolean fieldSeen = false;
    try {
      while (position < end) {
        int b = block[position] & 0xff;
        if ((b & 0x80) != 0) {
          long index = integer(block, end, 7);
          fieldSeen = true;
          indexed(index, sink);
        } else if ((b & 0x40) != 0) {
          literal(block, end, integer(block, end, 6), true, sink);
          fieldSeen = true;
        } else if ((b & 0x20) != 0) {
          if (fieldSeen) {
            throw new IllegalStateException("size update after a field");
          }
          long newSize = integer(block, end, 5);
          // an observer may have missed the SETTINGS that allowed more: only the hard bound refuses
          if (newSize > Math.max(allowedSize, MAX_TABLE_SIZE)) {
            throw new IllegalStateException("table size " + newSize + " over " + MAX_TABLE_SIZE);
          }
          maxSize = (int) newSize;
          evict(0);
          if (maxSize == 0) {
            trusted = true; // an empty table is known
          }
        } else {
          literal(block, end, integer(block, end, 4), false, sink);
          fieldSeen = true;
        }
      }
      return true;
    } catch (IllegalStateException | ArrayIndexOutOfBoundsException e) {
      trusted = false;
      return false;
    }
  }

  private void indexed(long index, FieldSink sink) {
    if (index == 0) {
      throw new IllegalStateException("index 0");
    }
    if (index <= STATIC.length) {
      sink.field(STATIC[(int) index - 1][0], STATIC[(int) index - 1][1]);
      return;
    }
    long dynamic = index - STATIC.length - 1;
    if (!trusted || dynamic >= count) {
      unknown(sink);
      return;
    }
    int slot = slot((int) dynamic);
    sink.field(names[slot], values[slot]);
  }

  private void literal(byte[] block, int end, long nameIndex, boolean index, FieldSink sink) {
    String name;
    boolean nameKnown = true;
    if (nameIndex == 0) {
      name = string(block, end, false);
    } else if (nameIndex <= STATIC.length) {
      name = STATIC[(int) nameIndex - 1][0];
    } else {
      long dynamic = nameIndex - STATIC.length - 1;
      if (!trusted || dynamic >= count) {
        nameKnown = false;
        name = null;
      } else {
        name = names[slot((int) dynamic)];
      }
    }
    String value = string(block, end, true);
    int valueOctets = lastOctets;
    if (index) {
      // the entry is added even when its name is unknown: the table's shape stays right
      add(name, value, (name == null ? 0 : name.length()) + valueOctets + 32);
    }
    if (!nameKnown) {
      unknown(sink);
      return;
    }
    sink.field(name, value);
  }

  private void unknown(FieldSink sink) {
    if (trusted) {
      trusted = false;
    }
    unknownFields++;
    sink.field(null, null);
  }

  private int lastOctets;

  private String string(byte[] block, int end, boolean value) {
    if (position >= end) {
      throw new IllegalStateException("string past the block");
    }
    boolean huffman = (block[position] & 0x80) != 0;
    long length = integer(block, end, 7);
    if (length > end - position || length > MAX_STRING) {
      throw new IllegalStateException("string of " + length + " past the block");
    }
    int start = position;
    position += (int) length;
    if (!huffman) {
      lastOctets = (int) length;
      return new String(block, start, (int) length, value ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    }
    int decoded = Huffman.decode(block, start, (int) length, scratch);
    if (decoded < 0 || decoded > scratch.length) {
      throw new IllegalStateException("bad Huffman string");
    }
    lastOctets = decoded;
    return new String(scratch, 0, decoded, value ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
  }

  /** An integer with an {@code prefix}-bit prefix (RFC 7541 5.1), at most 2^31 - 1. */
  private long integer(byte[] block, int end, int prefix) {
    int max = (1 << prefix) - 1;
    long value = block[position++] & max;
    if (value < max) {
      return value;
    }
    int shift = 0;
    while (true) {
      if (position >= end) {
        throw new IllegalStateException("integer past the block");
      }
      int b = block[position++] & 0xff;
      value += (long) (b & 0x7f) << shift;
      if (value > Integer.MAX_VALUE) {
        throw new IllegalStateException("integer too large");
      }
      if ((b & 0x80) == 0) {
        return value;
      }
      shift += 7;
    }
  }

  private int slot(int dynamic) {
    return (head - 1 - dynamic + names.length * 2) % names.length;
  }

  private void add(String name, String value, int entrySize) {
    if (entrySize > maxSize) {
      // larger than the table: the table empties, nothing is added
      count = 0;
      size = 0;
      return;
    }
    evict(entrySize);
    if (count == names.length) {
      grow();
    }
    names[head] = name;
    values[head] = value;
    sizes[head] = entrySize;
    head = (head + 1) % names.length;
    count++;
    size += entrySize;
  }

  /** Evicts the oldest entries until {@code room} more bytes fit. */
  private void evict(int room) {
    while (count > 0 && size + room > maxSize) {
      int oldest = slot(count - 1);
      size -= sizes[oldest];
      names[oldest] = null;
      values[oldest] = null;
      count--;
    }
  }

  private void grow() {
    int n = names.length;
    String[] newNames = new String[n * 2];
    String[] newValues = new String[n * 2];
    int[] newSizes = new int[n * 2];
    for (int i = 0; i < count; i++) {
      int from = slot(count - 1 - i); // oldest first
      newNames[i] = names[from];
      newValues[i] = values[from];
      newSizes[i] = sizes[from];
    }
    names = newNames;
    values = newValues;
    sizes = newSizes;
    head = count;
  }
}
