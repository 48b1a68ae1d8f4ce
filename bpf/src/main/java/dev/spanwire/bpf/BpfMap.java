package dev.spanwire.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A map of a {@link BpfObject}, alive as long as its object. Sizing and initial values are set
 * before load; lookups work after. Lookups may run on any thread: each call holds the object open
 * (its close waits for the call), and once the object is closed every call throws
 * {@link BpfObject.ClosedException} — libbpf has freed the map.
 */
public final class BpfMap {
  private final BpfObject owner;
  private final MemorySegment map;
  private final String name;

  BpfMap(BpfObject owner, MemorySegment map) {
    this.owner = owner;
    this.map = map;
    try {
      this.name = Ffm.string((MemorySegment) Libbpf.BPF_MAP__NAME.invokeExact(map));
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }

  public String name() {
    return name;
  }

  /** The map's file descriptor once loaded. */
  public int fd() {
    owner.enterMapCall(name);
    try {
      return Libbpf.check("fd of map " + name, (int) Libbpf.BPF_MAP__FD.invokeExact(map));
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    } finally {
      owner.exitMapCall();
    }
  }

  public int valueSize() {
    owner.enterMapCall(name);
    try {
      return (int) Libbpf.BPF_MAP__VALUE_SIZE.invokeExact(map);
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    } finally {
      owner.exitMapCall();
    }
  }

  /** The capacity: entries, or bytes for a ring buffer. */
  public int maxEntries() {
    owner.enterMapCall(name);
    try {
      return (int) Libbpf.BPF_MAP__MAX_ENTRIES.invokeExact(map);
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    } finally {
      owner.exitMapCall();
    }
  }

  /** Sets the capacity (bytes for a ring buffer); before load. */
  public void setMaxEntries(int maxEntries) {
    owner.enterMapCall(name);
    try {
      Libbpf.check(
          "set max entries of map " + name + " to " + maxEntries,
          (int) Libbpf.BPF_MAP__SET_MAX_ENTRIES.invokeExact(map, maxEntries));
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    } finally {
      owner.exitMapCall();
    }
  }

  /** Size of the initial value of an internal map ({@code .rodata}, {@code .data}). */
  public long initialValueSize() {
    owner.enterMapCall(name);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment size = arena.allocate(ValueLayout.JAVA_LONG);
      MemorySegment value = (MemorySegment) Libbpf.BPF_MAP__INITIAL_VALUE.invokeExact(map, size);
      if (value.equals(MemorySegment.NULL)) {
        throw new BpfException("initial value of map " + name, 0, "map has no initial value");
      }
      return size.get(ValueLayout.JAVA_LONG, 0);
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    } finally {
      owner.exitMapCall();
    }
  }

  /** Replaces the initial value of an internal map; its size must match exactly. Before load. */
  public void setInitialValue(MemorySegment value) {
    owner.enterMapCall(name);
    try {
      Libbpf.check(
          "set initial value of map " + name,
          (int) Libbpf.BPF_MAP__SET_INITIAL_VALUE.invokeExact(map, value, value.byteSize()));
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    } finally {
      owner.exitMapCall();
    }
  }

  /**
   * Looks up a key of a per-CPU map; the result holds one value per possible CPU, each
   * {@code valueSize} rounded up to 8 bytes. Returns false when the key is absent.
   */
  public boolean lookup(MemorySegment key, MemorySegment values) {
    owner.enterMapCall(name);
    try {
      int rc =
          (int)
              Libbpf.Elements.LOOKUP_ELEM.invokeExact(
                  map, key, key.byteSize(), values, values.byteSize(), 0L);
      if (rc == -2) { // ENOENT
        return false;
      }
      Libbpf.check("lookup in map " + name, rc);
      return true;
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    } finally {
      owner.exitMapCall();
    }
  }

  /** Inserts or replaces a key's value. Any thread, after load. */
  public void update(MemorySegment key, MemorySegment value) {
    owner.enterMapCall(name);
    try {
      Libbpf.check(
          "update map " + name,
          (int) Libbpf.Elements.UPDATE_ELEM.invokeExact(map, key, key.byteSize(), value, value.byteSize(), 0L));
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    } finally {
      owner.exitMapCall();
    }
  }

  /** Deletes a key; false when it was absent. Any thread, after load. */
  public boolean delete(MemorySegment key) {
    owner.enterMapCall(name);
    try {
      int rc = (int) Libbpf.Elements.DELETE_ELEM.invokeExact(map, key, key.byteSize(), 0L);
      if (rc == -2) { // ENOENT
        return false;
      }
      Libbpf.check("delete from map " + name, rc);
      return true;
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    } finally {
      owner.exitMapCall();
    }
  }

  /**
   * Writes the key after {@code key} (the first key when {@code key} is null) into {@code next};
   * false at the end. Iteration over a map others change may skip or repeat keys.
   */
  public boolean nextKey(MemorySegment key, MemorySegment next) {
    owner.enterMapCall(name);
    try {
      // a local, not a conditional: invokeExact would see a conditional argument as an Object
      MemorySegment current = key == null ? MemorySegment.NULL : key;
      int rc = (int) Libbpf.Elements.GET_NEXT_KEY.invokeExact(map, current, next, next.byteSize());
      if (rc == -2) { // ENOENT: no more keys
        return false;
      }
      Libbpf.check("iterate map " + name, rc);
      return true;
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    } finally {
      owner.exitMapCall();
    }
  }

  @Override
  public String toString() {
    return "BpfMap{" + name + "}";
  }
}
