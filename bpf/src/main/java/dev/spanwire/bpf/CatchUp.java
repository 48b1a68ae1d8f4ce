package dev.spanwire.bpf;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A thread that runs at a lower nice value while it is behind with its work: from when more than a
 * quarter of what may wait for it waits, until an eighth or less does. Linux gives every runnable
 * thread of one nice value the same share of a core, and on a host whose services keep every core
 * busy that share is too little for a thread that has fallen behind (in the agent's first seconds,
 * before the JIT has compiled it, it needs many times its usual CPU). A thread that keeps up stays
 * at its own value. Made on the thread it paces (it reads that thread's nice value) and used by
 * that thread alone. Lowering the value needs CAP_SYS_NICE; refused once, the thread keeps its own
 * and the log says so.
 */
public final class CatchUp {
  private static final System.Logger LOG = System.getLogger(CatchUp.class.getName());

  private final String who;
  private final int catchUpNice;
  private final AtomicLong times;
  /** The thread's own nice value, taken back once it has caught up. */
  private final int ownNice;
  /** Whether the thread changes its nice value at all (it would go down, and the kernel has not refused it). */
  private boolean paced;
  /** Whether the thread runs at {@link #catchUpNice} now. */
  private boolean catchingUp;

  /**
   * For the calling thread, named {@code who} in the log; {@code catchUpNice} 0 never changes its
   * value; each catch-up is counted in {@code times}.
   */
  public CatchUp(String who, int catchUpNice, AtomicLong times) {
    this.who = who;
    this.catchUpNice = catchUpNice;
    this.times = times;
    this.ownNice = ThreadNice.get();
    this.paced = catchUpNice != 0 && catchUpNice < ownNice;
  }

  /** With {@code behind} (0 to 1) of what may wait for the thread waiting now. */
  public void adjust(double behind) {
    if (!paced) {
      return;
    }
    if (!catchingUp && behind > 0.25) {
      String refused = ThreadNice.set(catchUpNice);
      if (refused != null) {
        LOG.log(System.Logger.Level.INFO, "{0} fell behind and keeps nice {1} ({2})", who, ownNice, refused);
        paced = false; // tried once
        return;
      }
      catchingUp = true;
      times.incrementAndGet();
      LOG.log(System.Logger.Level.DEBUG, "{0} {1} % behind: nice {2} until it has caught up", who,
          Math.round(behind * 100), catchUpNice);
    } else if (catchingUp && behind <= 0.125) {
      String refused = ThreadNice.set(ownNice);
      if (refused != null) {
        LOG.log(System.Logger.Level.WARNING, "{0} could not take back nice {1} ({2})", who, ownNice, refused);
      }
      catchingUp = false;
    }
  }
}
