package dev.spanwire.bpf;

import static dev.spanwire.bpf.EventLayouts.CONN_CLOSE_EVENT;
import static dev.spanwire.bpf.EventLayouts.CONN_OPEN_EVENT;
import static dev.spanwire.bpf.EventLayouts.DATA_EVENT_HEAD;
import static dev.spanwire.bpf.EventLayouts.offset;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Turns ring buffer records into {@link SocketEvent}s, copying everything out of the record. A
 * record that is too short or of an unknown type throws {@link MalformedEventException}.
 */
public final class EventDecoder {
  private static final long TYPE = EventLayouts.headerOffset("type");
  private static final long TGID = EventLayouts.headerOffset("tgid");
  private static final long TID = EventLayouts.headerOffset("tid");
  private static final long FD = EventLayouts.headerOffset("fd");
  private static final long CONN_ID = EventLayouts.headerOffset("conn_id");
  private static final long TIMESTAMP = EventLayouts.headerOffset("timestamp_ns");
  private static final long KEY = EventLayouts.headerOffset("conn_key");

  private static final long OPEN_UID = offset(CONN_OPEN_EVENT, "uid");
  private static final long OPEN_GID = offset(CONN_OPEN_EVENT, "gid");
  private static final long OPEN_FAMILY = offset(CONN_OPEN_EVENT, "family");
  private static final long OPEN_LOCAL_PORT = offset(CONN_OPEN_EVENT, "local_port");
  private static final long OPEN_REMOTE_PORT = offset(CONN_OPEN_EVENT, "remote_port");
  private static final long OPEN_ROLE = offset(CONN_OPEN_EVENT, "role");
  private static final long OPEN_FLAGS = offset(CONN_OPEN_EVENT, "flags");
  private static final long OPEN_INO = offset(CONN_OPEN_EVENT, "ino");
  private static final long OPEN_LOCAL_ADDR = offset(CONN_OPEN_EVENT, "local_addr");
  private static final long OPEN_REMOTE_ADDR = offset(CONN_OPEN_EVENT, "remote_addr");
  private static final long OPEN_COMM = offset(CONN_OPEN_EVENT, "comm");
  private static final long OPEN_CMDLINE_LEN = offset(CONN_OPEN_EVENT, "cmdline_len");
  private static final long OPEN_CMDLINE = offset(CONN_OPEN_EVENT, "cmdline");

  private static final long DATA_POSITION = offset(DATA_EVENT_HEAD, "position");
  private static final long DATA_LENGTH = offset(DATA_EVENT_HEAD, "length");
  private static final long DATA_CAPTURED = offset(DATA_EVENT_HEAD, "captured");
  private static final long DATA_DIRECTION = offset(DATA_EVENT_HEAD, "direction");
  private static final long DATA_SOURCE = offset(DATA_EVENT_HEAD, "source");
  private static final long DATA_FLAGS = offset(DATA_EVENT_HEAD, "flags");
  private static final long DATA_PAYLOAD = DATA_EVENT_HEAD.byteSize();

  private static final long CLOSE_EGRESS = offset(CONN_CLOSE_EVENT, "bytes_egress");
  private static final long CLOSE_INGRESS = offset(CONN_CLOSE_EVENT, "bytes_ingress");
  private static final long CLOSE_TLS_EGRESS = offset(CONN_CLOSE_EVENT, "tls_bytes_egress");
  private static final long CLOSE_TLS_INGRESS = offset(CONN_CLOSE_EVENT, "tls_bytes_ingress");

  private static final int AF_INET = 2;
  private static final int AF_INET6 = 10;

  /** A record that does not decode. */
  public static final class MalformedEventException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    MalformedEventException(String message) {
      super(message);
    }
  }

  private EventDecoder() {}

  /**
   * A thread's copy of a record's fixed head. The hot path (every data record) reads its fields
   * from this array after one copy: read field by field from the segment, each access inlined the
   * segment access path, and the method's compilations were the largest of the capture loop (C1
   * past its 8 MiB compile memory limit, C2 7 MiB).
   */
  private static final ThreadLocal<byte[]> HEAD = ThreadLocal.withInitial(() -> new byte[(int) DATA_PAYLOAD]);

  private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.nativeOrder());
  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());

  /** Decodes one record; nothing of the result refers to {@code record} afterwards. */
  public static SocketEvent decode(MemorySegment record) {
    require(record, EventLayouts.EVENT_HEADER.byteSize(), "event header");
    byte[] head = HEAD.get();
    MemorySegment.copy(record, JAVA_BYTE, 0, head, 0, (int) Math.min(record.byteSize(), head.length));
    int type = intAt(head, TYPE);
    try {
      return switch (type) {
        case EventLayouts.EVENT_DATA -> decodeData(record, head);
        case EventLayouts.EVENT_CONN_OPEN -> decodeOpen(record);
        case EventLayouts.EVENT_CONN_CLOSE -> decodeClose(record);
        case EventLayouts.EVENT_PROC_EXIT, EventLayouts.EVENT_PROC_EXEC -> decodeProcess(record, type);
        default -> throw new MalformedEventException("unknown event type " + type);
      };
    } catch (IllegalArgumentException e) {
      // an enum code out of range
      throw new MalformedEventException(e.getMessage());
    }
  }

  private static SocketEvent decodeProcess(MemorySegment record, int type) {
    require(record, EventLayouts.PROC_EVENT.byteSize(), "process event");
    int tgid = record.get(JAVA_INT, TGID);
    int tid = record.get(JAVA_INT, TID);
    long timestamp = record.get(JAVA_LONG, TIMESTAMP);
    return type == EventLayouts.EVENT_PROC_EXIT
        ? new ProcessExited(tgid, tid, timestamp)
        : new ProcessExecuted(tgid, tid, timestamp);
  }

  /** {@code head}: the record's first {@link #DATA_PAYLOAD} bytes, once the record is that long. */
  private static DataCaptured decodeData(MemorySegment record, byte[] head) {
    require(record, DATA_PAYLOAD, "data event");
    int captured = intAt(head, DATA_CAPTURED);
    int length = intAt(head, DATA_LENGTH);
    if (length < 0 || captured < 0 || captured > EventLayouts.MAX_CAPTURE_BYTES || captured > length) {
      throw new MalformedEventException(
          "data event captured " + captured + " of " + length + " bytes");
    }
    require(record, DATA_PAYLOAD + captured, "data event payload");
    byte[] payload = new byte[captured];
    MemorySegment.copy(record, JAVA_BYTE, DATA_PAYLOAD, payload, 0, captured);
    int flags = head[(int) DATA_FLAGS];
    return new DataCaptured(
        longAt(head, CONN_ID),
        intAt(head, TGID),
        intAt(head, TID),
        intAt(head, FD),
        longAt(head, TIMESTAMP),
        Direction.of(head[(int) DATA_DIRECTION]),
        Source.of(head[(int) DATA_SOURCE]),
        longAt(head, DATA_POSITION),
        length,
        payload,
        (flags & EventLayouts.DATA_FLAG_LOSS_BEFORE) != 0,
        (flags & EventLayouts.DATA_FLAG_TLS) != 0,
        longAt(head, KEY));
  }

  private static int intAt(byte[] bytes, long offset) {
    return (int) INTS.get(bytes, (int) offset);
  }

  private static long longAt(byte[] bytes, long offset) {
    return (long) LONGS.get(bytes, (int) offset);
  }

  private static ConnectionOpened decodeOpen(MemorySegment record) {
    require(record, CONN_OPEN_EVENT.byteSize(), "open event");
    int family = Short.toUnsignedInt(record.get(JAVA_SHORT, OPEN_FAMILY));
    return new ConnectionOpened(
        record.get(JAVA_LONG, CONN_ID),
        record.get(JAVA_INT, TGID),
        record.get(JAVA_INT, TID),
        record.get(JAVA_INT, FD),
        record.get(JAVA_LONG, TIMESTAMP),
        record.get(JAVA_INT, OPEN_UID),
        record.get(JAVA_INT, OPEN_GID),
        address(record, family, OPEN_LOCAL_ADDR, OPEN_LOCAL_PORT),
        address(record, family, OPEN_REMOTE_ADDR, OPEN_REMOTE_PORT),
        Role.of(record.get(JAVA_BYTE, OPEN_ROLE)),
        cString(record, OPEN_COMM, 16),
        commandLine(record),
        record.get(JAVA_LONG, OPEN_INO),
        (record.get(JAVA_BYTE, OPEN_FLAGS) & EventLayouts.OPEN_FLAG_JOINED) != 0,
        record.get(JAVA_LONG, KEY),
        (record.get(JAVA_BYTE, OPEN_FLAGS) & EventLayouts.OPEN_FLAG_TLS) != 0);
  }

  /** The NUL-separated arguments without trailing NULs; empty when the kernel could not read them. */
  private static String commandLine(MemorySegment record) {
    int length = Math.min(Math.max(record.get(JAVA_INT, OPEN_CMDLINE_LEN), 0), EventLayouts.CMDLINE_BYTES);
    byte[] bytes = new byte[length];
    MemorySegment.copy(record, JAVA_BYTE, OPEN_CMDLINE, bytes, 0, length);
    int end = length;
    while (end > 0 && bytes[end - 1] == 0) {
      end--;
    }
    return new String(bytes, 0, end, StandardCharsets.UTF_8);
  }

  private static ConnectionClosed decodeClose(MemorySegment record) {
    require(record, CONN_CLOSE_EVENT.byteSize(), "close event");
    return new ConnectionClosed(
        record.get(JAVA_LONG, CONN_ID),
        record.get(JAVA_INT, TGID),
        record.get(JAVA_INT, TID),
        record.get(JAVA_INT, FD),
        record.get(JAVA_LONG, TIMESTAMP),
        record.get(JAVA_LONG, CLOSE_EGRESS),
        record.get(JAVA_LONG, CLOSE_INGRESS),
        record.get(JAVA_LONG, CLOSE_TLS_EGRESS),
        record.get(JAVA_LONG, CLOSE_TLS_INGRESS),
        record.get(JAVA_LONG, KEY));
  }

  /** IPv4 in the first 4 bytes, or 16 bytes of IPv6; a v4-mapped IPv6 address becomes IPv4. */
  static InetSocketAddress address(MemorySegment record, int family, long addr, long port) {
    int length =
        switch (family) {
          case AF_INET -> 4;
          case AF_INET6 -> 16;
          default -> throw new MalformedEventException("unknown address family " + family);
        };
    byte[] bytes = new byte[length];
    MemorySegment.copy(record, JAVA_BYTE, addr, bytes, 0, length);
    return new InetSocketAddress(interned(bytes), Short.toUnsignedInt(record.get(JAVA_SHORT, port)));
  }

  /** An address and its bytes, immutable: a racing reader of the slot sees both or neither. */
  private record Interned(byte[] bytes, InetAddress address) {}

  private static final int INTERNED_SLOTS = 256;
  private static final Interned[] INTERNED = new Interned[INTERNED_SLOTS];

  /**
   * The same InetAddress object for the same bytes, as long as its slot keeps it: a host's
   * connections come from a few peers, and what turns an address into text (every span and event
   * writes two) finds it by identity then, without hashing or formatting it again.
   */
  static InetAddress interned(byte[] bytes) {
    int hash = java.util.Arrays.hashCode(bytes);
    int slot = (hash ^ (hash >>> 16)) & (INTERNED_SLOTS - 1);
    Interned known = INTERNED[slot];
    if (known != null && java.util.Arrays.equals(known.bytes, bytes)) {
      return known.address;
    }
    InetAddress address;
    try {
      address = InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      throw new MalformedEventException("bad address of length " + bytes.length);
    }
    INTERNED[slot] = new Interned(bytes, address);
    return address;
  }

  private static String cString(MemorySegment record, long offset, int max) {
    int length = 0;
    while (length < max && record.get(JAVA_BYTE, offset + length) != 0) {
      length++;
    }
    byte[] bytes = new byte[length];
    MemorySegment.copy(record, JAVA_BYTE, offset, bytes, 0, length);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static void require(MemorySegment record, long size, String what) {
    if (record.byteSize() < size) {
      throw new MalformedEventException(
          what + " needs " + size + " bytes, record has " + record.byteSize());
    }
  }
}
