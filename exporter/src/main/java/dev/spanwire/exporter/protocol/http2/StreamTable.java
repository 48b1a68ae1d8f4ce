package dev.spanwire.exporter.protocol.http2;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * A connection's open streams by id: open addressing over int keys, so finding a stream costs no
 * boxing and no entry objects (a lookup per frame). Bounded by the caller.
 */
final class StreamTable<T> {
  private int[] ids = new int[16];
  private Object[] values = new Object[16];
  private int size;

  int size() {
    return size;
  }

  @SuppressWarnings("unchecked")
  T get(int id) {
    int mask = ids.length - 1;
    for (int i = mix(id) & mask; values[i] != null; i = (i + 1) & mask) {
      if (ids[i] == id) {
        return (T) values[i];
      }
    }
    return null;
  }

  /** Puts the value of {@code id}; returns the one it replaced, or null. */
  @SuppressWarnings("unchecked")
  T put(int id, T value) {
    if ((size + 1) * 2 > ids.length) {
      grow();
    }
    int mask = ids.length - 1;
    int i = mix(id) & mask;
    for (; values[i] != null; i = (i + 1) & mask) {
      if (ids[i] == id) {
        T old = (T) values[i];
        values[i] = value;
        return old;
      }
    }
    ids[i] = id;
    values[i] = value;
    size++;
    return null;
  }

  /** Removes {@code id}'s value (backward-shift deletion: no tombstones). */
  void remove(int id) {
    int mask = ids.length - 1;
    int i = mix(id) & mask;
    while (values[i] != null && ids[i] != id) {
      i = (i + 1) & mask;
    }
    if (values[i] == null) {
      return;
    }
    values[i] = null;
    size--;
    for (int j = (i + 1) & mask; values[j] != null; j = (j + 1) & mask) {
      int home = mix(ids[j]) & mask;
      // move j into the hole at i when its home slot is not within (i, j]
      if (((j - home) & mask) >= ((j - i) & mask)) {
        ids[i] = ids[j];
        values[i] = values[j];
        values[j] = null;
        i = j;
      }
    }
  }

  void clear() {
    java.util.Arrays.fill(values, null);
    size = 0;
  }

  /** A copy of the values, in no particular order. */
  @SuppressWarnings("unchecked")
  List<T> values() {
    List<T> all = new ArrayList<>(size);
    for (Object value : values) {
      if (value != null) {
        all.add((T) value);
      }
    }
    return all;
  }

  /** The value whose {@code age} is least (the oldest), or null when empty. */
  @SuppressWarnings("unchecked")
  T least(ToLongFunction<T> age) {
    T least = null;
    long min = Long.MAX_VALUE;
    for (Object value : values) {
      if (value != null && age.applyAsLong((T) value) < min) {
        min = age.applyAsLong((T) value);
        least = (T) value;
      }
    }
    return least;
  }

  private void grow() {
    int[] oldIds = ids;
    Object[] oldValues = values;
    ids = new int[oldIds.length * 2];
    values = new Object[oldValues.length * 2];
    size = 0;
    for (int i = 0; i < oldIds.length; i++) {
      if (oldValues[i] != null) {
        @SuppressWarnings("unchecked")
        T value = (T) oldValues[i];
        put(oldIds[i], value);
      }
    }
  }

  private static int mix(int id) {
    return id * 0x9E3779B9 >>> 16 ^ id;
  }
}
