package dev.spanwire.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

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

  /** A record: its bytes, then fields forced to the values that matter to the decoder. */
  record Record(byte[] bytes, int type, int length, int captured, short family, int cmdlineLength) {}

  @Provide
  Arbitrary<Record> records() {
    long largest = Math.max(EventLayouts.CONN_OPEN_EVENT.byteSize(),
        EventLayouts.DATA_EVENT_HEAD.byteSize() + EventLayouts.MAX_CAPTURE_BYTES) + 64;
    // random contents from a seed: jqwik drawing 30 KB byte by byte would be most of the run
    Arbitrary<byte[]> bytes = Combinators.combine(
        Arbitraries.oneOf(Arbitraries.integers().between(0, 400), Arbitraries.integers().between(0, (int) largest)),
        Arbitraries.longs()).as((n, seed) -> {
          byte[] b = new byte[n];
          new java.util.Random(seed).nextBytes(b);
          return b;
        });
    Arbitrary<Integer> types = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(8, Arbitraries.integers().between(1, 5)),
        net.jqwik.api.Tuple.of(1, Arbitraries.integers()));
    Arbitrary<Integer> sizes = Arbitraries.oneOf(
        Arbitraries.integers().between(-2, 300),
        Arbitraries.of(0, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, EventLayouts.MAX_CAPTURE_BYTES,
            EventLayouts.MAX_CAPTURE_BYTES + 1),
        Arbitraries.integers());
    Arbitrary<Short> families = Arbitraries.oneOf(Arbitraries.of((short) 2, (short) 10), Arbitraries.shorts());
    return Combinators.combine(bytes, types, sizes, sizes, families, sizes).as(Record::new);
  }

  @Property
  void aRecordDecodesOrIsRefusedAsMalformed(@ForAll("records") Record r) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment record = arena.allocate(Math.max(1, r.bytes().length));
      MemorySegment.copy(r.bytes(), 0, record, ValueLayout.JAVA_BYTE, 0, r.bytes().length);
      record = record.asSlice(0, r.bytes().length);
      put(record, TYPE, r.type());
      put(record, DATA_LENGTH, r.length());
      put(record, DATA_CAPTURED, r.captured());
      if (record.byteSize() >= OPEN_FAMILY + 2) {
        record.set(ValueLayout.JAVA_SHORT_UNALIGNED, OPEN_FAMILY, r.family());
      }
      put(record, OPEN_CMDLINE_LEN, r.cmdlineLength());
      SocketEvent event;
      try {
        event = EventDecoder.decode(record);
      } catch (EventDecoder.MalformedEventException refused) {
        return;
      }
      if (event instanceof DataCaptured data) {
        assertThat(data.payload().length).isLessThanOrEqualTo(EventLayouts.MAX_CAPTURE_BYTES);
        assertThat((long) data.payload().length).isLessThanOrEqualTo(record.byteSize() - EventLayouts.DATA_EVENT_HEAD.byteSize());
        assertThat((long) data.payload().length).isLessThanOrEqualTo(data.length());
      } else if (event instanceof ConnectionOpened open) {
        assertThat(open.commandLine().length()).isLessThanOrEqualTo(EventLayouts.CMDLINE_BYTES);
        assertThat(open.comm().length()).isLessThanOrEqualTo(16);
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
