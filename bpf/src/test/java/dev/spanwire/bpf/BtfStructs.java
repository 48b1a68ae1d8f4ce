package dev.spanwire.bpf;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;

/** Struct sizes and member offsets from an object's BTF, for checking the Java layouts. */
final class BtfStructs {
  record Struct(long size, Map<String, Long> memberOffsets) {}

  private BtfStructs() {}

  static Struct read(BpfObject object, String name) {
    MemorySegment btf = object.btf();
    try (Arena arena = Arena.ofConfined()) {
      int id = (int) Libbpf.Btf.FIND_BY_NAME_KIND.invokeExact(btf, arena.allocateFrom(name), Libbpf.BTF_KIND_STRUCT);
      if (id < 0) {
        throw new AssertionError("struct " + name + " not in the BTF of " + object.name());
      }
      // struct btf_type { u32 name_off; u32 info; u32 size; } then vlen x { u32 name_off, type, offset }
      MemorySegment type = ((MemorySegment) Libbpf.Btf.TYPE_BY_ID.invokeExact(btf, id)).reinterpret(12);
      int info = type.get(JAVA_INT, 4);
      int vlen = info & 0xffff;
      boolean kindFlag = (info >>> 31) != 0;
      long size = Integer.toUnsignedLong(type.get(JAVA_INT, 8));
      MemorySegment members = type.reinterpret(12 + 12L * vlen).asSlice(12);
      Map<String, Long> offsets = new LinkedHashMap<>();
      for (int i = 0; i < vlen; i++) {
        int nameOff = members.get(JAVA_INT, 12L * i);
        int bits = members.get(JAVA_INT, 12L * i + 8);
        if (kindFlag) {
          bits &= 0xffffff;
        }
        String member = Ffm.string((MemorySegment) Libbpf.Btf.NAME_BY_OFFSET.invokeExact(btf, nameOff));
        offsets.put(member, bits / 8L);
      }
      return new Struct(size, offsets);
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }
}
