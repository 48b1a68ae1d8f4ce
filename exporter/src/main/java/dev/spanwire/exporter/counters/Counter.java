package dev.spanwire.exporter.counters;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.LongSupplier;

/**
 * A count with one writing thread (the pipeline's): increments are plain additions, as cheap as a
 * field's; any thread reads the value, seeing each write soon (opaque reads).
 */
public final class Counter implements LongSupplier {
  private static final VarHandle VALUE;

  static {
    try {
      VALUE = MethodHandles.lookup().findVarHandle(Counter.class, "value", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private long value;

  /** By the writing thread only. */
  public void increment() {
    VALUE.setOpaque(this, value + 1);
  }

  /** By the writing thread only. */
  public void add(long n) {
    VALUE.setOpaque(this, value + n);
  }

  /** Any thread. */
  public long get() {
    return (long) VALUE.getOpaque(this);
  }

  @Override
  public long getAsLong() {
    return get();
  }

  @Override
  public String toString() {
    return Long.toString(get());
  }
}
