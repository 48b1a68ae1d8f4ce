package dev.spanwire.exporter.connection;

import dev.spanwire.bpf.DataCaptured;
import java.util.ArrayList;
import java.util.List;

/**
 * Puts one direction of a connection back in stream order. Each event is placed by its position:
 * captured bytes go to the {@link Sink} as bytes, bytes that moved but were not captured (the
 * capture size was reached) as a skip, and stream ranges no event covered (lost in the kernel) as
 * a gap. Events that arrive ahead of their turn (two threads on one socket) wait, at most
 * {@link #MAX_PENDING} of them, until {@link #flush} at the end of the ring buffer batch declares
 * what is still missing a gap. Bytes below a position the session said it skips ({@link
 * #skipUntil}) may come without any event: a hole there is skipped, not lost.
 *
 * <p>Owned by the pipeline thread.
 */
final class StreamAssembler {
  /** Events held ahead of their turn; one more declares a gap at once. */
  static final int MAX_PENDING = 8;

  /** Receives the stream in order. */
  interface Sink {
    void onBytes(byte[] data, int offset, int length, long position, long timestampNanos);

    void onSkipped(long count, long position, long timestampNanos);

    void onGap(long count, long position, long timestampNanos);
  }

  private final Sink sink;
  private final ConnectionStats stats;
  private final List<DataCaptured> pending = new ArrayList<>(0);
  /** The kernel counts every connection's positions from 0, so a lost first event is a gap too. */
  private long next = 0;
  /** Holes below this position are bytes the kernel was told not to send (a body skipped by length). */
  private long skipUntil = 0;
  /** False for a stream met in the middle: its first event sets where it starts. */
  private boolean started = true;

  StreamAssembler(Sink sink, ConnectionStats stats) {
    this.sink = sink;
    this.stats = stats;
  }

  /**
   * The stream is met in the middle (its connection re-established from the kernel's table): the
   * first event's position is where it starts for us.
   */
  void startAtFirstEvent() {
    started = false;
  }

  /** The stream goes on at {@code position}, where it stood when its connection was dropped. */
  void startAt(long position) {
    next = position;
    started = true;
  }

  /**
   * The session skips the bytes before {@code position}: the kernel may send no event for them,
   * so a hole below it is skipped bytes, not a loss.
   */
  void skipUntil(long position) {
    skipUntil = Math.max(skipUntil, position);
  }

  /** Skips the promised part of a hole before {@code position}; true when none is left. */
  private boolean skipPromised(long position, long timestampNanos) {
    if (position > next && next < skipUntil) {
      long count = Math.min(position, skipUntil) - next;
      stats.skippedBytes.add(count);
      sink.onSkipped(count, next, timestampNanos);
      next += count;
    }
    return position <= next;
  }

  /** The position the next event should start at. */
  long next() {
    return next;
  }

  boolean hasPending() {
    return !pending.isEmpty();
  }

  void accept(DataCaptured event) {
    long position = event.position();
    if (!started) {
      started = true;
      next = position;
    }
    if (position > next && pending.isEmpty()) {
      skipPromised(position, event.timestampNanos());
    }
    if (position == next) {
      deliver(event, 0);
      drain();
    } else if (position > next) {
      stats.reordered.increment();
      insert(event);
      if (pending.size() > MAX_PENDING) {
        flush();
      }
    } else if (position + event.length() <= next) {
      stats.duplicates.increment();
    } else {
      // overlaps what was delivered: pass on only the new part
      stats.duplicates.increment();
      deliver(event, next - position);
      drain();
    }
  }

  /** Declares what held events are still waiting for a gap, and delivers them. */
  void flush() {
    while (!pending.isEmpty()) {
      flushOne();
    }
  }

  /** When the first held event was captured (there must be one). */
  long firstPendingNanos() {
    return pending.getFirst().timestampNanos();
  }

  /** Delivers the first held event, the bytes missing before it declared a gap. */
  void flushOne() {
    DataCaptured first = pending.removeFirst();
    skipPromised(first.position(), first.timestampNanos());
    if (first.position() > next) {
      long missing = first.position() - next;
      stats.gaps.increment();
      stats.gapBytes.add(missing);
      sink.onGap(missing, next, first.timestampNanos());
      next = first.position();
    }
    if (first.position() + first.length() > next) {
      deliver(first, next - first.position());
    } else {
      stats.duplicates.increment();
    }
  }

  /**
   * The stream ended at {@code total} bytes (the kernel's count at close): bytes beyond what was
   * delivered were lost, and go to the sink as a gap.
   */
  void endAt(long total, long timestampNanos) {
    flush();
    skipPromised(total, timestampNanos);
    if (total > next) {
      long missing = total - next;
      stats.gaps.increment();
      stats.gapBytes.add(missing);
      sink.onGap(missing, next, timestampNanos);
      next = total;
    }
  }

  private void drain() {
    while (!pending.isEmpty() && pending.getFirst().position() <= next) {
      DataCaptured first = pending.removeFirst();
      if (first.position() + first.length() > next) {
        deliver(first, next - first.position());
      } else {
        stats.duplicates.increment();
      }
    }
  }

  private void insert(DataCaptured event) {
    int i = pending.size();
    while (i > 0 && pending.get(i - 1).position() > event.position()) {
      i--;
    }
    pending.add(i, event);
  }

  /** Passes on the event from {@code skip} bytes into it. */
  private void deliver(DataCaptured event, long skip) {
    if (event.lossBefore() && skip == 0) {
      // the kernel missed a syscall's bytes without moving the position: a gap of unknown size
      stats.gaps.increment();
      sink.onGap(0, event.position(), event.timestampNanos());
    }
    byte[] payload = event.payload();
    long position = event.position() + skip;
    long timestamp = event.timestampNanos();
    if (skip < payload.length) {
      int from = (int) skip;
      sink.onBytes(payload, from, payload.length - from, position, timestamp);
      position += payload.length - from;
    }
    long uncaptured = event.position() + event.length() - position;
    if (uncaptured > 0) {
      stats.skippedBytes.add(uncaptured);
      sink.onSkipped(uncaptured, position, timestamp);
    }
    next = event.position() + event.length();
  }
}
