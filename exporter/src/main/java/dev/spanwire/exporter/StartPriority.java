package dev.spanwire.exporter;

import dev.spanwire.bpf.ThreadNice;

/**
 * The agent's start ahead of its JIT compilers. A start is mostly one thread's work — the
 * configuration read, the programs verified by the kernel on that thread — and on a host with few
 * cores the C1 and C2 compiler threads took turns with it: measured on 2 cores, they used 0.7-0.8 s
 * of CPU by "capturing", and the starting thread waited for a core 0.3-0.45 s of a 1.0-1.4 s start.
 * With its nice value {@link #STEP} lower it has a core (0.1-0.2 s of waiting left), and so has the
 * thread it starts first, which opens the capture object for it; the compilers compile the same,
 * on the other core and later. The pipeline's warm-up runs at the agent's value: it competed with
 * the starting thread for the start's first core and made it wait longer.
 *
 * <p>The compilers keep their own value. Lowering theirs during the start instead of raising the
 * starting thread's lost events in 3 of 4 starts into a running wrk load on 2 cores (the agent's
 * first events need the code they compile, and the traced services took their share); raising
 * theirs for 5 s after the start lost none in 18 such starts, against 13 of 44 before, but took
 * the reader's share in those seconds: in CI a kernel test's curl, run just after the start, had
 * exited before the agent read its command line (once; likely that, not proven).
 *
 * <p>Threads that live on, and whatever they start, must not keep the raised value: the starting
 * thread gives it back ({@link #close}) before it starts them, and a thread started meanwhile that
 * makes such threads runs its work {@link #atNormal}. A lower nice value needs CAP_SYS_NICE (or
 * RLIMIT_NICE); without it nothing changes. Made and closed by the thread that starts the agent;
 * closing twice is harmless.
 */
final class StartPriority implements AutoCloseable {
  /** How much lower the starting thread's nice value is (Linux gives nice -10 about 9 times nice 0's share). */
  static final int STEP = 10;

  private final int normal;
  private boolean raised;

  private StartPriority(int normal, boolean raised) {
    this.normal = normal;
    this.raised = raised;
  }

  /** The calling thread's nice value {@link #STEP} lower (at least -20), where it may be. */
  static StartPriority raise() {
    int normal = ThreadNice.get();
    int start = Math.max(ThreadNice.MIN, normal - STEP);
    return new StartPriority(normal, start != normal && ThreadNice.set(start) == null);
  }

  /**
   * {@code work} run at the value the starting thread had before, for a thread started while it is
   * raised whose own threads live on.
   */
  Runnable atNormal(Runnable work) {
    if (!raised) {
      return work;
    }
    return () -> {
      ThreadNice.set(normal);
      work.run();
    };
  }

  /** The starting thread's value back: the threads it starts from now on run at it too. */
  @Override
  public void close() {
    if (raised) {
      raised = false;
      ThreadNice.set(normal);
    }
  }
}
