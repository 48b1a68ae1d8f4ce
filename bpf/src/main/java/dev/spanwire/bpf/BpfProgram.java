package dev.spanwire.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A program of a {@link BpfObject}, alive as long as its object. Attach it to get a
 * {@link BpfLink}; the link, not the program, is what has to be closed.
 */
public final class BpfProgram {
  private final MemorySegment program;
  private final String name;
  private final String section;

  BpfProgram(MemorySegment program) {
    this.program = program;
    try {
      this.name = Ffm.string((MemorySegment) Libbpf.BPF_PROGRAM__NAME.invokeExact(program));
      this.section =
          Ffm.string((MemorySegment) Libbpf.BPF_PROGRAM__SECTION_NAME.invokeExact(program));
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }

  /** The C function name, e.g. {@code handle_sys_exit_read}. */
  public String name() {
    return name;
  }

  /** The ELF section, e.g. {@code tracepoint/syscalls/sys_exit_read}. */
  public String section() {
    return section;
  }

  /** Whether {@link BpfObject#load} loads this program; call before load. */
  public void setAutoload(boolean autoload) {
    try {
      Libbpf.check(
          "set autoload of " + name,
          (int) Libbpf.BPF_PROGRAM__SET_AUTOLOAD.invokeExact(program, autoload));
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }

  /** Attaches where the section name says (tracepoint, uprobe, ...). */
  public BpfLink attach() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment callState = Libbpf.callState(arena);
      MemorySegment link = (MemorySegment) Libbpf.BPF_PROGRAM__ATTACH.invokeExact(callState, program);
      return new BpfLink(section, Libbpf.checkPointer("attach " + section, link, callState));
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }

  /**
   * Attaches this uprobe (or uretprobe) program at file offset {@code offset} of the ELF file at
   * {@code binary} (where {@code function} starts), for every process that maps it ({@code pid} -1)
   * or one. The caller found the offset: libbpf given only the name would parse the file's symbol
   * tables again for every probe.
   */
  public BpfLink attachUprobe(int pid, String binary, String function, long offset, boolean retprobe) {
    return attachUprobe(pid, binary, function, offset, retprobe, 0);
  }

  /**
   * As {@link #attachUprobe(int, String, String, long, boolean)}, the program reading {@code cookie}
   * with {@code bpf_get_attach_cookie}; a kernel without attach cookies (before 5.15) refuses a
   * non-zero one with EOPNOTSUPP.
   */
  public BpfLink attachUprobe(int pid, String binary, String function, long offset, boolean retprobe, long cookie) {
    String target = (retprobe ? "uretprobe:" : "uprobe:") + function + "@" + binary + "+0x" + Long.toHexString(offset);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment opts = arena.allocate(Libbpf.UPROBE_OPTS_BYTES, 8);
      opts.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, Libbpf.UPROBE_OPTS_BYTES);
      opts.set(java.lang.foreign.ValueLayout.JAVA_LONG, 16, cookie);
      opts.set(java.lang.foreign.ValueLayout.JAVA_BOOLEAN, 24, retprobe);
      MemorySegment callState = Libbpf.callState(arena);
      MemorySegment link = (MemorySegment) Libbpf.BPF_PROGRAM__ATTACH_UPROBE_OPTS.invokeExact(
          callState, program, pid, arena.allocateFrom(binary), offset, opts);
      return new BpfLink(target, Libbpf.checkPointer("attach " + target, link, callState));
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }

  @Override
  public String toString() {
    return "BpfProgram{" + name + " in " + section + "}";
  }
}
