package dev.spanwire.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.testing.Fuzz;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the ring-buffer record decoder: records of every type (and unknown ones), of any length
 * around the layouts' sizes, with random bytes and hostile lengths, families, roles, directions.
 * A record decodes to an event that owns copies of its bytes, or is refused with
 * {@link EventDecoder.MalformedEventException}; nothing else escapes, nothing reads past it.
 */
class EventDecoderFuzzTest {
  private static final long TYPE = EventLayouts.headerOffset("type");
  private static final long DATA_LENGTH = EventLayouts.offset(EventLayouts.DATA_EVENT_HEAD, "length");
  private static final long DATA_CAPTURED = EventLayouts.offset(EventLayouts.DATA_EVENT_HEAD, "captured");
  private static final long OPEN_FAMILY = EventLayouts.offset(EventLayouts.CONN_OPEN_EVENT, "family");
  private static final long OPEN_CMDLINE_LEN = EventLayouts.offset(EventLayouts.CONN_OPEN_EVENT, "cmdline_len");
  private static final int LARGEST = (int) Math.max(EventLayouts.CONN_OPEN_EVENT.byteSize(),
      EventLayouts.DATA_EVENT_HEAD.byteSize() + EventLayouts.MAX_CAPTURE_BYTES) + 64;
  private static final int[] EDGES = {0, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, EventLayouts.MAX_CAPTURE_BYTES,
      EventLayouts.MAX_CAPTURE_BYTES + 1};

  /** A length or count field: small, at an edge, or anything. */
  private static int size(Random random) {
    return switch (random.nextInt(3)) {
      case 0 -> random.nextInt(303) - 2;
      case 1 -> EDGES[random.nextInt(EDGES.length)];
      default -> random.nextInt();
    };
  }

  @Test
  void aRecordDecodesOrIsRefusedAsMalformed() {
    Fuzz.run("ring-buffer records", random -> {
      byte[] bytes = new byte[random.nextBoolean() ? random.nextInt(401) : random.nextInt(LARGEST + 1)];
      random.nextBytes(bytes);
      int type = random.nextInt(9) < 8 ? 1 + random.nextInt(5) : random.nextInt();
      short family = random.nextBoolean() ? (short) (random.nextBoolean() ? 2 : 10) : (short) random.nextInt();
      check(bytes, type, size(random), size(random), family, size(random));
    });
  }

  private static void check(byte[] bytes, int type, int length, int captured, short family, int cmdlineLength) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment record = arena.allocate(Math.max(1, bytes.length)).asSlice(0, bytes.length);
      MemorySegment.copy(bytes, 0, record, ValueLayout.JAVA_BYTE, 0, bytes.length);
      put(record, TYPE, type);
      put(record, DATA_LENGTH, length);
      put(record, DATA_CAPTURED, captured);
      if (record.byteSize() >= OPEN_FAMILY + 2) {
        record.set(ValueLayout.JAVA_SHORT_UNALIGNED, OPEN_FAMILY, family);
      }
      put(record, OPEN_CMDLINE_LEN, cmdlineLength);
      SocketEvent event;
      try {
        event = EventDecoder.decode(record);
      } catch (EventDecoder.MalformedEventException refused) {
        return;
      }
      String input = "record " + HexFormat.of().formatHex(record.toArray(ValueLayout.JAVA_BYTE));
      if (event instanceof DataCaptured data) {
        assertThat(data.payload().length).as(input).isLessThanOrEqualTo(EventLayouts.MAX_CAPTURE_BYTES);
        assertThat((long) data.payload().length).as(input)
            .isLessThanOrEqualTo(record.byteSize() - EventLayouts.DATA_EVENT_HEAD.byteSize());
        assertThat((long) data.payload().length).as(input).isLessThanOrEqualTo(data.length());
      } else if (event instanceof ConnectionOpened open) {
        assertThat(open.commandLine().length()).as(input).isLessThanOrEqualTo(EventLayouts.CMDLINE_BYTES);
        assertThat(open.comm().length()).as(input).isLessThanOrEqualTo(16);
      }
      assertThat(event.toString()).isNotNull();
    }
  }

  private static void put(MemorySegment record, long offset, int value) {
    if (record.byteSize() >= offset + 4) {
      record.set(ValueLayout.JAVA_INT_UNALIGNED, offset, value);
    }
  }
}
