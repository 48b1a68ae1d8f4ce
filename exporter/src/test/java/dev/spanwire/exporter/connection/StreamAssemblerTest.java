package dev.spanwire.exporter.connection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Source;
import dev.spanwire.exporter.counters.Counters;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One direction put back in stream order, at its bounds: how many events wait ahead of their turn
 * (8; the 9th declares the gap at once), what an overlap and a duplicate deliver, where a gap is
 * declared and how large, and a hole the session promised to skip.
 */
class StreamAssemblerTest {
  private final List<String> delivered = new ArrayList<>();
  private final ConnectionStats stats = new ConnectionStats(new Counters());
  private final StreamAssembler assembler = new StreamAssembler(new StreamAssembler.Sink() {
    @Override
    public void onBytes(byte[] data, int offset, int length, long position, long timestampNanos) {
      delivered.add("bytes " + position + " " + new String(data, offset, length, StandardCharsets.ISO_8859_1));
    }

    @Override
    public void onSkipped(long count, long position, long timestampNanos) {
      delivered.add("skipped " + position + " " + count);
    }

    @Override
    public void onGap(long count, long position, long timestampNanos) {
      delivered.add("gap " + position + " " + count);
    }
  }, stats);

  /** {@code text}'s bytes at {@code position}, all captured. */
  private static DataCaptured at(long position, String text) {
    byte[] payload = text.getBytes(StandardCharsets.ISO_8859_1);
    return new DataCaptured(1, 10, 10, 3, position, Direction.INGRESS, Source.READ, position, payload.length, payload);
  }

  @Test
  void eventsAheadOfTheirTurnWaitAndAreDeliveredInStreamOrder() {
    assembler.accept(at(4, "efgh"));
    assembler.accept(at(8, "ij"));
    assertThat(delivered).isEmpty();
    assembler.accept(at(0, "abcd"));
    assertThat(delivered).containsExactly("bytes 0 abcd", "bytes 4 efgh", "bytes 8 ij");
    assertThat(stats.reordered.get()).isEqualTo(2);
    assertThat(stats.gaps.get()).isZero();
    assertThat(assembler.hasPending()).isFalse();
  }

  @Test
  void eightEventsWaitForAMissingOneAndTheNinthDeclaresItLost() {
    assembler.accept(at(0, "aa"));
    // 2..10 never comes; events from 10 on, 2 bytes each
    for (int i = 0; i < 8; i++) {
      assembler.accept(at(10 + 2L * i, "x" + i));
    }
    assertThat(delivered).containsExactly("bytes 0 aa");
    assertThat(assembler.hasPending()).isTrue();
    assembler.accept(at(26, "x8"));
    assertThat(delivered).containsExactly("bytes 0 aa", "gap 2 8", "bytes 10 x0", "bytes 12 x1", "bytes 14 x2",
        "bytes 16 x3", "bytes 18 x4", "bytes 20 x5", "bytes 22 x6", "bytes 24 x7", "bytes 26 x8");
    assertThat(stats.gaps.get()).isEqualTo(1);
    assertThat(stats.gapBytes.get()).isEqualTo(8);
    assertThat(assembler.hasPending()).isFalse();
    assertThat(assembler.next()).isEqualTo(28);
  }

  @Test
  void theBatchsEndDeclaresWhatHeldEventsStillMiss() {
    assembler.accept(at(0, "ab"));
    assembler.accept(at(7, "hi"));
    assembler.accept(at(5, "fg"));
    assembler.flush();
    assertThat(delivered).containsExactly("bytes 0 ab", "gap 2 3", "bytes 5 fg", "bytes 7 hi");
    assertThat(stats.gapBytes.get()).isEqualTo(3);
  }

  @Test
  void anOverlapDeliversOnlyItsNewBytesAndADuplicateNothing() {
    assembler.accept(at(0, "abcd"));
    assembler.accept(at(2, "cdef"));
    assembler.accept(at(0, "abcd"));
    assertThat(delivered).containsExactly("bytes 0 abcd", "bytes 4 ef");
    assertThat(stats.duplicates.get()).isEqualTo(2);
    assertThat(assembler.next()).isEqualTo(6);
  }

  @Test
  void bytesPastTheLastEventAtCloseAreAGapOfTheirSize() {
    assembler.accept(at(0, "abcd"));
    assembler.endAt(10, 99);
    assertThat(delivered).containsExactly("bytes 0 abcd", "gap 4 6");
    assertThat(stats.gaps.get()).isEqualTo(1);
    assertThat(stats.gapBytes.get()).isEqualTo(6);
  }

  @Test
  void aHoleTheSessionPromisedToSkipIsSkippedAndOnlyWhatLiesBeyondThePromiseIsLost() {
    assembler.accept(at(0, "head"));
    assembler.skipUntil(100);
    assembler.accept(at(100, "next"));
    assertThat(delivered).containsExactly("bytes 0 head", "skipped 4 96", "bytes 100 next");
    assertThat(stats.gaps.get()).isZero();
    assembler.skipUntil(120);
    assembler.endAt(130, 99);
    assertThat(delivered).endsWith("skipped 104 16", "gap 120 10");
    assertThat(stats.skippedBytes.get()).isEqualTo(96 + 16);
    assertThat(stats.gapBytes.get()).isEqualTo(10);
  }

  @Test
  void aStreamMetInTheMiddleStartsAtItsFirstEvent() {
    assembler.startAtFirstEvent();
    assembler.accept(at(5_000, "mid"));
    assertThat(delivered).containsExactly("bytes 5000 mid");
    assertThat(stats.gaps.get()).isZero();
  }
}
