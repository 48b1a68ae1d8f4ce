package dev.spanwire.exporter.otel;

import dev.spanwire.exporter.exchange.Field;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.AttributeType;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * A span's attributes straight from an exchange's fields: an immutable array of keys and values
 * in the fields' order. The SDK's builder sorts and de-duplicates on every build (a fifth of the
 * export cost at 20 attributes a span); fields already have distinct names, so nothing needs
 * sorting. Keys are made once per name and shared, up to {@value #MAX_CACHED_KEYS} names.
 */
final class FieldAttributes implements Attributes {
  /**
   * The scheme's names are few, but watched headers name attributes after whatever header names
   * the traffic carries: past this many, keys are made per span rather than kept.
   */
  static final int MAX_CACHED_KEYS = 1024;

  private static final Map<String, AttributeKey<?>> KEYS = new ConcurrentHashMap<>();

  private final AttributeKey<?>[] keys;
  private final Object[] values;

  private FieldAttributes(AttributeKey<?>[] keys, Object[] values) {
    this.keys = keys;
    this.values = values;
  }

  /**
   * The fields, then {@code extraName = extraValue}, as attributes. Names must be distinct; values
   * are String, Long, Double or Boolean (anything else becomes its string).
   */
  static Attributes of(List<Field> fields, String extraName, String extraValue) {
    int n = fields.size() + 1;
    AttributeKey<?>[] keys = new AttributeKey<?>[n];
    Object[] values = new Object[n];
    for (int i = 0; i < fields.size(); i++) {
      Field field = fields.get(i);
      Object value = switch (field.value()) {
        case String s -> s;
        case Long l -> l;
        case Double d -> d;
        case Boolean b -> b;
        case Object o -> String.valueOf(o);
      };
      keys[i] = key(field.name(), value);
      values[i] = value;
    }
    keys[n - 1] = key(extraName, extraValue);
    values[n - 1] = extraValue;
    return new FieldAttributes(keys, values);
  }

  /** Names whose keys are kept (tests). */
  static int cachedKeys() {
    return KEYS.size();
  }

  private static AttributeKey<?> key(String name, Object value) {
    AttributeKey<?> key = KEYS.get(name);
    AttributeType type = typeOf(value);
    if (key == null || key.getType() != type) {
      key = switch (type) {
        case LONG -> AttributeKey.longKey(name);
        case DOUBLE -> AttributeKey.doubleKey(name);
        case BOOLEAN -> AttributeKey.booleanKey(name);
        default -> AttributeKey.stringKey(name);
      };
      if (KEYS.size() < MAX_CACHED_KEYS) {
        KEYS.put(name, key);
      }
    }
    return key;
  }

  private static AttributeType typeOf(Object value) {
    return switch (value) {
      case Long l -> AttributeType.LONG;
      case Double d -> AttributeType.DOUBLE;
      case Boolean b -> AttributeType.BOOLEAN;
      default -> AttributeType.STRING;
    };
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> T get(AttributeKey<T> key) {
    for (int i = 0; i < keys.length; i++) {
      if (keys[i].equals(key)) {
        return (T) values[i];
      }
    }
    return null;
  }

  @Override
  public void forEach(BiConsumer<? super AttributeKey<?>, ? super Object> consumer) {
    for (int i = 0; i < keys.length; i++) {
      consumer.accept(keys[i], values[i]);
    }
  }

  @Override
  public int size() {
    return keys.length;
  }

  @Override
  public boolean isEmpty() {
    return keys.length == 0;
  }

  @Override
  public Map<AttributeKey<?>, Object> asMap() {
    Map<AttributeKey<?>, Object> map = new LinkedHashMap<>();
    forEach(map::put);
    return Collections.unmodifiableMap(map);
  }

  @Override
  @SuppressWarnings("unchecked")
  public AttributesBuilder toBuilder() {
    AttributesBuilder builder = Attributes.builder();
    for (int i = 0; i < keys.length; i++) {
      builder.put((AttributeKey<Object>) keys[i], values[i]);
    }
    return builder;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Attributes other && asMap().equals(other.asMap());
  }

  @Override
  public int hashCode() {
    return Objects.hash(asMap());
  }

  @Override
  public String toString() {
    return asMap().toString();
  }
}
