package dev.spanwire.exporter.exchange;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The header fields kept of a message, in the order they came, names as sent: the ones the
 * product reads (host, user-agent, x-forwarded-for, x-appscope, traceparent, tracestate) and, when
 * watch rules ask, all of them. At most {@value #MAX_FIELDS} fields; each value is bounded by the
 * protocol parser. Immutable.
 */
public final class Headers {
  /** Fields kept per message; more are dropped (the message's framing is unaffected). */
  public static final int MAX_FIELDS = 128;

  public static final Headers NONE = new Headers(new String[0], new String[0], 0);

  private final String[] names;
  private final String[] values;
  private final int size;

  /**
   * Headers over these arrays, which the caller hands over and no longer changes: their first
   * {@code size} entries (at most {@value #MAX_FIELDS}).
   */
  public static Headers wrap(String[] names, String[] values, int size) {
    return size == 0 ? NONE : new Headers(names, values, Math.min(size, MAX_FIELDS));
  }

  private Headers(String[] names, String[] values, int size) {
    this.names = names;
    this.values = values;
    this.size = size;
  }

  public int size() {
    return size;
  }

  public boolean isEmpty() {
    return size == 0;
  }

  /** The name of field {@code i}, as sent. */
  public String name(int i) {
    return names[i];
  }

  public String value(int i) {
    return values[i];
  }

  /** The first value of the field of this name (any case), or null. */
  public String get(String name) {
    for (int i = 0; i < size; i++) {
      if (names[i].equalsIgnoreCase(name)) {
        return values[i];
      }
    }
    return null;
  }

  /** Every value of the field of this name (any case) joined by {@code separator}, or null. */
  public String joined(String name, String separator) {
    String first = null;
    StringBuilder all = null;
    for (int i = 0; i < size; i++) {
      if (names[i].equalsIgnoreCase(name)) {
        if (first == null) {
          first = values[i];
        } else {
          if (all == null) {
            all = new StringBuilder(first);
          }
          all.append(separator).append(values[i]);
        }
      }
    }
    return all == null ? first : all.toString();
  }

  /** Every field as a {@code Name: value} line. */
  public List<String> lines() {
    List<String> lines = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      lines.add(names[i] + ": " + values[i]);
    }
    return lines;
  }

  /** These fields with the value of field {@code i} replaced. */
  public Headers withValue(int i, String value) {
    String[] v = Arrays.copyOf(values, size);
    v[i] = value;
    return new Headers(Arrays.copyOf(names, size), v, size);
  }

  /** Fields from {@code Name: value} lines (tests, recorded captures). */
  public static Headers ofLines(List<String> lines) {
    Builder b = builder();
    for (String line : lines) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        b.add(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
      }
    }
    return b.build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Collects fields in order, up to {@value #MAX_FIELDS}. Reusable after {@link #build}. */
  public static final class Builder {
    private String[] names = new String[8];
    private String[] values = new String[8];
    private int size;

    /** Adds a field; false when the bound was reached and it was dropped. */
    public boolean add(String name, String value) {
      if (size == MAX_FIELDS) {
        return false;
      }
      if (size == names.length) {
        names = Arrays.copyOf(names, size * 2);
        values = Arrays.copyOf(values, size * 2);
      }
      names[size] = name;
      values[size] = value;
      size++;
      return true;
    }

    public boolean isEmpty() {
      return size == 0;
    }

    /** The fields collected; the builder starts over. */
    public Headers build() {
      if (size == 0) {
        return NONE;
      }
      Headers headers = new Headers(Arrays.copyOf(names, size), Arrays.copyOf(values, size), size);
      size = 0;
      return headers;
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Headers h && lines().equals(h.lines());
  }

  @Override
  public int hashCode() {
    return lines().hashCode();
  }

  @Override
  public String toString() {
    return lines().toString();
  }
}
