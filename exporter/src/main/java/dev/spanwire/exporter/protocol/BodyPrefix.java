package dev.spanwire.exporter.protocol;

import java.util.Arrays;

/**
 * A message body's first bytes, kept up to a limit in a buffer that grows as they come, each
 * growth taken from the pipeline's {@link BodyBudget}; given back by {@link #release}. One per
 * message under way (an HTTP/1 direction, an HTTP/2 stream's side).
 */
public final class BodyPrefix {
  private final BodyBudget budget;
  /** Its whole length is taken from the budget. */
  private byte[] bytes;
  private int length;
  private boolean refused;

  public BodyPrefix(BodyBudget budget) {
    this.budget = budget;
  }

  /** Keeps what {@code limit} and the budget leave room for of {@code data}; how many it kept. */
  public int keep(byte[] data, int offset, int count, int limit) {
    int n = Math.min(limit - length, count);
    if (n <= 0) {
      return 0;
    }
    int capacity = bytes == null ? 0 : bytes.length;
    if (capacity < length + n) {
      int wanted = Math.min(limit, Math.max(length + n, Math.max(256, capacity * 2)));
      int granted = budget.take(wanted - capacity);
      if (granted > 0) {
        bytes = bytes == null ? new byte[granted] : Arrays.copyOf(bytes, capacity + granted);
        capacity += granted;
      }
      if (capacity < length + n) {
        refused = true;
        n = capacity - length;
      }
    }
    if (n > 0) {
      System.arraycopy(data, offset, bytes, length, n);
      length += n;
    }
    return n;
  }

  /** Bytes kept. */
  public int length() {
    return length;
  }

  /** The budget refused more room: the prefix is as full as it gets. */
  public boolean refused() {
    return refused;
  }

  /** The bytes kept (the buffer itself when exactly full: not written after), or null for none. */
  public byte[] bytes() {
    return bytes == null ? null : bytes.length == length ? bytes : Arrays.copyOf(bytes, length);
  }

  /**
   * Empty again, its budget bytes kept taken: the bytes now belong to a message that is held on
   * (a request waiting for its answer), whose holder gives the returned count back when it lets go.
   */
  public int detach() {
    int held = bytes == null ? 0 : bytes.length;
    bytes = null;
    length = 0;
    refused = false;
    return held;
  }

  /** Empty again, its budget bytes given back. */
  public void release() {
    budget.give(detach());
  }
}
