package dev.spanwire.bpf;

import java.util.Optional;

/** What the host's libbpf and kernel support, for start-up checks and {@code spanwire doctor}. */
public final class BpfFeatures {
  private BpfFeatures() {}

  /**
   * Why libbpf cannot be used, or empty when it loads. Binds nothing: the bindings ({@link
   * Libbpf}'s initialisation) may be under way on another thread (see {@link SocketCapture#preparation}).
   */
  public static Optional<String> libbpfMissing() {
    try {
      java.lang.foreign.SymbolLookup.libraryLookup(Libbpf.LIBRARY, java.lang.foreign.Arena.global());
      return Optional.empty();
    } catch (IllegalArgumentException e) {
      return Optional.of(Libbpf.LIBRARY + " " + Libbpf.NOT_FOUND);
    }
  }

  /** The libbpf version, e.g. {@code v1.1}. Requires libbpf. */
  public static String libbpfVersion() {
    try {
      return Ffm.string((java.lang.foreign.MemorySegment) Libbpf.Probes.VERSION_STRING.invokeExact());
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }

  /** Whether the kernel creates BPF ring buffers (5.8+); needs privilege to find out. */
  public static boolean ringBufferSupported() {
    try {
      int rc =
          (int)
              Libbpf.Probes.PROBE_BPF_MAP_TYPE.invokeExact(
                  Libbpf.BPF_MAP_TYPE_RINGBUF, java.lang.foreign.MemorySegment.NULL);
      return Libbpf.check("probe ring buffer maps", rc) == 1;
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }

  /** Whether the kernel loads tracepoint programs; needs privilege to find out. */
  public static boolean tracepointProgramsSupported() {
    try {
      int rc =
          (int)
              Libbpf.Probes.PROBE_BPF_PROG_TYPE.invokeExact(
                  Libbpf.BPF_PROG_TYPE_TRACEPOINT, java.lang.foreign.MemorySegment.NULL);
      return Libbpf.check("probe tracepoint programs", rc) == 1;
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }
}
