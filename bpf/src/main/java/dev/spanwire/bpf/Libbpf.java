package dev.spanwire.bpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Hand-written FFM bindings to the system libbpf ({@code libbpf.so.1}, API 1.x) and the few libc
 * functions the loader needs. Only {@code invokeExact} is used on these handles.
 *
 * <p>libbpf 1.x returns {@code -errno} from int functions and NULL with errno set from pointer
 * functions; pointer functions are bound with a per-call errno capture and {@link #check} and
 * {@link #checkPointer} turn both conventions into a {@link BpfException}.
 */
final class Libbpf {
  static final String LIBRARY = "libbpf.so.1";
  /** What is said when {@link #LIBRARY} does not load (a constant: reading it binds nothing). */
  static final String NOT_FOUND = "not found (apt-get install libbpf1)";

  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIBBPF = requireLibrary();
  private static final SymbolLookup LIBC = LINKER.defaultLookup();
  private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO_HANDLE =
      CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

  /** {@code struct bpf_object_open_opts} as of libbpf 1.0 (80 bytes on LP64). */
  static final StructLayout OPEN_OPTS =
      MemoryLayout.structLayout(
          JAVA_LONG.withName("sz"),
          ADDRESS.withName("object_name"),
          JAVA_BOOLEAN.withName("relaxed_maps"),
          MemoryLayout.paddingLayout(7),
          ADDRESS.withName("pin_root_path"),
          JAVA_INT.withName("attach_prog_fd_stub"),
          MemoryLayout.paddingLayout(4),
          ADDRESS.withName("kconfig"),
          ADDRESS.withName("btf_custom_path"),
          ADDRESS.withName("kernel_log_buf"),
          JAVA_LONG.withName("kernel_log_size"),
          JAVA_INT.withName("kernel_log_level"),
          MemoryLayout.paddingLayout(4));

  // libbpf: objects
  static final MethodHandle BPF_OBJECT__OPEN_MEM =
      libbpfErrno("bpf_object__open_mem", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
  static final MethodHandle BPF_OBJECT__LOAD =
      libbpf("bpf_object__load", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  static final MethodHandle BPF_OBJECT__CLOSE =
      libbpf("bpf_object__close", FunctionDescriptor.ofVoid(ADDRESS));
  static final MethodHandle BPF_OBJECT__NEXT_PROGRAM =
      libbpf("bpf_object__next_program", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle BPF_OBJECT__NEXT_MAP =
      libbpf("bpf_object__next_map", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle BPF_OBJECT__BTF =
      libbpf("bpf_object__btf", FunctionDescriptor.of(ADDRESS, ADDRESS));

  // libbpf: programs and links
  static final MethodHandle BPF_PROGRAM__NAME =
      libbpf("bpf_program__name", FunctionDescriptor.of(ADDRESS, ADDRESS));
  static final MethodHandle BPF_PROGRAM__SECTION_NAME =
      libbpf("bpf_program__section_name", FunctionDescriptor.of(ADDRESS, ADDRESS));
  static final MethodHandle BPF_PROGRAM__SET_AUTOLOAD =
      libbpf("bpf_program__set_autoload", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_BOOLEAN));
  static final MethodHandle BPF_PROGRAM__ATTACH =
      libbpfErrno("bpf_program__attach", FunctionDescriptor.of(ADDRESS, ADDRESS));
  static final MethodHandle BPF_PROGRAM__ATTACH_UPROBE_OPTS =
      libbpfErrno(
          "bpf_program__attach_uprobe_opts",
          FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
  /**
   * {@code struct bpf_uprobe_opts} as libbpf 1.1 has it: sz, ref_ctr_offset, bpf_cookie, retprobe
   * (a bool padded to 8), func_name. Newer libbpf reads only the {@code sz} bytes given.
   */
  static final long UPROBE_OPTS_BYTES = 40;
  static final MethodHandle BPF_LINK__DESTROY =
      libbpf("bpf_link__destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));

  // libbpf: maps
  static final MethodHandle BPF_MAP__NAME =
      libbpf("bpf_map__name", FunctionDescriptor.of(ADDRESS, ADDRESS));
  static final MethodHandle BPF_MAP__FD =
      libbpf("bpf_map__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  static final MethodHandle BPF_MAP__VALUE_SIZE =
      libbpf("bpf_map__value_size", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  static final MethodHandle BPF_MAP__MAX_ENTRIES =
      libbpf("bpf_map__max_entries", FunctionDescriptor.of(JAVA_INT, ADDRESS));
  static final MethodHandle BPF_MAP__SET_MAX_ENTRIES =
      libbpf("bpf_map__set_max_entries", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
  static final MethodHandle BPF_MAP__INITIAL_VALUE =
      libbpf("bpf_map__initial_value", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
  static final MethodHandle BPF_MAP__SET_INITIAL_VALUE =
      libbpf(
          "bpf_map__set_initial_value",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
  // libbpf: misc
  static final FunctionDescriptor PRINT_FN = FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
  static final MethodHandle LIBBPF_SET_PRINT =
      libbpf("libbpf_set_print", FunctionDescriptor.of(ADDRESS, ADDRESS));
  static final MethodHandle LIBBPF_NUM_POSSIBLE_CPUS =
      libbpf("libbpf_num_possible_cpus", FunctionDescriptor.of(JAVA_INT));
  // Bound on first use, in holder classes the JVM initialises when first touched: each distinct C
  // signature costs its FFM stub (~10 ms at start), and these are not needed to start capturing.

  /** Map elements. */
  static final class Elements {
    static final MethodHandle LOOKUP_ELEM =
        libbpf(
            "bpf_map__lookup_elem",
            FunctionDescriptor.of(
                JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG));

    static final MethodHandle UPDATE_ELEM =
        libbpf(
            "bpf_map__update_elem",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG));
    static final MethodHandle DELETE_ELEM =
        libbpf("bpf_map__delete_elem", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG));
    static final MethodHandle GET_NEXT_KEY =
        libbpf("bpf_map__get_next_key", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));

    private Elements() {}
  }

  /** BTF types (the tests read kernel structs with them). */
  static final class Btf {
    static final MethodHandle FIND_BY_NAME_KIND =
        libbpf("btf__find_by_name_kind", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle TYPE_BY_ID =
        libbpf("btf__type_by_id", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
    static final MethodHandle NAME_BY_OFFSET =
        libbpf("btf__name_by_offset", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));

    private Btf() {}
  }

  /** What {@code spanwire doctor} asks. */
  static final class Probes {
    static final MethodHandle PROBE_BPF_MAP_TYPE =
        libbpf("libbpf_probe_bpf_map_type", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    static final MethodHandle PROBE_BPF_PROG_TYPE =
        libbpf("libbpf_probe_bpf_prog_type", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    static final MethodHandle VERSION_STRING =
        libbpf("libbpf_version_string", FunctionDescriptor.of(ADDRESS));

    private Probes() {}
  }

  /** Error texts and libbpf's log lines (libc's vsnprintf). */
  static final class Text {
    static final MethodHandle STRERROR =
        libbpf("libbpf_strerror", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));
    static final MethodHandle VSNPRINTF =
        libc("vsnprintf", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));

    private Text() {}
  }

  static final int BPF_MAP_TYPE_RINGBUF = 27;
  static final int BPF_PROG_TYPE_TRACEPOINT = 5;
  static final int BTF_KIND_STRUCT = 4;

  private Libbpf() {}

  private static SymbolLookup requireLibrary() {
    try {
      return SymbolLookup.libraryLookup(LIBRARY, Arena.global());
    } catch (IllegalArgumentException e) {
      throw new BpfException("load " + LIBRARY, 0, NOT_FOUND);
    }
  }

  private static MethodHandle libbpf(String name, FunctionDescriptor descriptor) {
    return LINKER.downcallHandle(find(LIBBPF, name), descriptor);
  }

  private static MethodHandle libbpfErrno(String name, FunctionDescriptor descriptor) {
    return LINKER.downcallHandle(find(LIBBPF, name), descriptor, ERRNO);
  }

  private static MethodHandle libc(String name, FunctionDescriptor descriptor) {
    return LINKER.downcallHandle(find(LIBC, name), descriptor);
  }

  private static MemorySegment find(SymbolLookup lookup, String name) {
    return lookup
        .find(name)
        .orElseThrow(() -> new BpfException("bind " + name, 0, "symbol not found in " + LIBRARY));
  }

  /** A segment for one call's errno, from the caller's arena. */
  static MemorySegment callState(Arena arena) {
    return arena.allocate(CALL_STATE);
  }

  /** The errno a call with {@link #callState} recorded. */
  static int errno(MemorySegment callState) {
    return (int) ERRNO_HANDLE.get(callState, 0L);
  }

  /** Throws for a negative libbpf return code ({@code -errno}); returns the code otherwise. */
  static int check(String operation, int rc) {
    if (rc < 0) {
      throw new BpfException(operation, -rc, strerror(-rc));
    }
    return rc;
  }

  /** Throws when a pointer function returned NULL, with the errno captured for that call. */
  static MemorySegment checkPointer(String operation, MemorySegment result, MemorySegment callState) {
    if (result.equals(MemorySegment.NULL)) {
      int errno = errno(callState);
      throw new BpfException(operation, errno, strerror(errno));
    }
    return result;
  }

  /** libbpf's text for an errno, which also knows libbpf's own codes (4000+). */
  static String strerror(int errno) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(256);
      int rc = (int) Text.STRERROR.invokeExact(errno, buf, 256L);
      return rc == 0 ? buf.getString(0) : "errno " + errno;
    } catch (Throwable t) {
      return "errno " + errno;
    }
  }

  static int numPossibleCpus() {
    try {
      return check("count possible cpus", (int) LIBBPF_NUM_POSSIBLE_CPUS.invokeExact());
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }
}
