package dev.spanwire.exporter.exchange;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the fields of an event or span go as {@link ExchangeFields} makes them, in order: a list
 * (events, filters, tests) or a span encoder that writes each one straight into its request.
 */
public interface FieldSink {
  /** A field whose value is a String, Long, Double or Boolean. */
  void add(String name, Object value);

  /** A whole-number field (no box on the way to an encoder). */
  default void add(String name, long value) {
    add(name, (Object) value);
  }

  /** A decimal field. */
  default void add(String name, double value) {
    add(name, (Object) value);
  }

  /** Whether a field of {@code name} came before (asked only when header lines are watched). */
  boolean has(String name);

  /** The fields as a list of {@link Field}s. */
  final class Collected implements FieldSink {
    private final List<Field> fields;

    public Collected(int expected) {
      fields = new ArrayList<>(expected);
    }

    @Override
    public void add(String name, Object value) {
      fields.add(new Field(name, value));
    }

    @Override
    public boolean has(String name) {
      for (Field field : fields) {
        if (field.name().equals(name)) {
          return true;
        }
      }
      return false;
    }

    public List<Field> fields() {
      return fields;
    }
  }
}
