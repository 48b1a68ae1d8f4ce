package dev.spanwire.bpf;

import java.lang.foreign.MemorySegment;

/**
 * An attachment of a program ({@code struct bpf_link}); closing it detaches the program. Close it
 * before its object. Safe to close twice and from any one thread.
 */
public final class BpfLink implements AutoCloseable {
  private final String target;
  private MemorySegment link;

  BpfLink(String target, MemorySegment link) {
    this.target = target;
    this.link = link;
  }

  /** Where the program is attached, e.g. {@code tracepoint/syscalls/sys_exit_read}. */
  public String target() {
    return target;
  }

  @Override
  public synchronized void close() {
    if (link == null) {
      return;
    }
    try {
      Libbpf.check("detach " + target, (int) Libbpf.BPF_LINK__DESTROY.invokeExact(link));
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    } finally {
      link = null;
    }
  }

  @Override
  public String toString() {
    return "BpfLink{" + target + (link == null ? ", closed" : "") + "}";
  }
}
