package dev.spanwire.bpf;

import java.util.List;

/**
 * One way bytes reach the kernel's data path (syscall tracepoints today; socket tracepoints and
 * TLS library uprobes are the same kind of thing): it names the programs of the loaded object it
 * attaches. A {@link SocketCapture} attaches its sources when it starts, and may attach or detach
 * one later (uprobes when a process maps a library).
 */
public interface CaptureSource {
  /** A short name for logs and doctor, e.g. {@code syscall tracepoints}. */
  String name();

  /** Whether the program of this ELF section belongs to this source. */
  boolean owns(String section);

  /** Attaches this source's programs of {@code object}; the caller owns the links. */
  default List<BpfLink> attach(BpfObject object) {
    List<BpfLink> links = new java.util.ArrayList<>();
    try {
      for (BpfProgram program : object.programs()) {
        if (owns(program.section())) {
          links.add(program.attach());
        }
      }
      return links;
    } catch (RuntimeException e) {
      for (int i = links.size() - 1; i >= 0; i--) {
        try {
          links.get(i).close();
        } catch (RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }
}
