package dev.spanwire.exporter;

import dev.spanwire.bpf.ThreadNice;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Who goes first while the agent starts. A start is mostly one thread's work — the configuration
 * read, the programs verified by the kernel on that thread — and on a host with few cores the C1
 * and C2 compiler threads took turns with it: measured on 2 cores, they used 0.7-0.8 s of CPU by
 * "capturing", and the starting thread waited for a core 0.3-0.45 s of a 1.0-1.4 s start. With its
 * nice value {@link #START_STEP} lower it has a core (0.1-0.2 s of waiting left), and so has the
 * thread it starts first, which opens the capture object for it; the compilers compile the same,
 * on the other core and later. The pipeline's warm-up runs at the agent's value: it competed with
 * the starting thread for the start's first core and made it wait longer.
 *
 * <p>Once the start's own work is done ({@link #started}) the compilers go first for {@link
 * #JIT_WARMUP}: the agent's first events need the code compiled that the start held back, and on a
 * host whose services keep every core busy the compilers would otherwise share the cores with them
 * as equals. Measured, starting the agent into a running wrk load on 2 cores: events lost in 10
 * of 28 starts before (227-10,231), in 5 of 16 with the start raised alone (498-5,724), and in none
 * of 18 with the compilers ahead afterwards; lowering the compilers' value during the start instead
 * of raising the starting thread's lost events in 3 of 4.
 *
 * <p>Threads that live on, and whatever they start, must not keep a raised value: the starting
 * thread gives its value back before it starts them, and a thread started meanwhile that makes
 * such threads runs its work {@link #atNormal}. A lower nice value needs CAP_SYS_NICE (or
 * RLIMIT_NICE); without it nothing changes. Made, {@link #started} and closed by the thread that
 * starts the agent; both are harmless twice.
 */
final class StartPriority implements AutoCloseable {
  /** How much lower the starting thread's nice value is (Linux gives nice -10 about 9 times nice 0's share). */
  static final int START_STEP = 10;
  /** How much lower the compilers' nice value is after the start (about 3 times nice 0's share). */
  static final int JIT_STEP = 5;
  /** How long the compilers stay ahead after the start. */
  static final Duration JIT_WARMUP = Duration.ofSeconds(5);

  private final int thread;
  private final int normal;
  private final Duration jitWarmup;
  private boolean raised;

  private StartPriority(int thread, int normal, boolean raised, Duration jitWarmup) {
    this.thread = thread;
    this.normal = normal;
    this.raised = raised;
    this.jitWarmup = jitWarmup;
  }

  /** The calling thread's nice value {@link #START_STEP} lower (at least -20), where it may be. */
  static StartPriority raise() {
    return raise(JIT_WARMUP);
  }

  static StartPriority raise(Duration jitWarmup) {
    int normal = ThreadNice.get();
    int start = Math.max(ThreadNice.MIN, normal - START_STEP);
    return new StartPriority(ThreadNice.self(), normal, start != normal && ThreadNice.set(start) == null, jitWarmup);
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

  /**
   * The start's own work is done: the starting thread's value back, so that the threads it starts
   * from now on run at it, and the compilers ahead for the warm-up (on a thread of their own, at
   * the value back).
   */
  void started() {
    if (!raised) {
      return;
    }
    close();
    Thread.ofPlatform().name("spanwire-jit-warmup").daemon().start(() -> {
      setCompilers(Math.max(ThreadNice.MIN, normal - JIT_STEP));
      try {
        Thread.sleep(jitWarmup);
      } catch (InterruptedException e) {
        // given back at once
      }
      setCompilers(normal);
    });
  }

  /** The starting thread's value back, without the compilers' warm-up (a start that failed). */
  @Override
  public void close() {
    if (raised) {
      raised = false;
      ThreadNice.set(thread, normal);
    }
  }

  private static void setCompilers(int nice) {
    for (int tid : compilerThreads()) {
      ThreadNice.set(tid, nice);
    }
  }

  /**
   * This process's JIT compiler threads, by the names HotSpot gives them ("C1 CompilerThread0",
   * "C2 CompilerThread1"; the kernel keeps 15 characters), including those it added since the last
   * look. A thread that ends while listed is skipped.
   */
  static List<Integer> compilerThreads() {
    List<Integer> found = new ArrayList<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
      for (Path task : tasks) {
        try {
          String name = Files.readString(task.resolve("comm"));
          if (name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler")) {
            found.add(Integer.parseInt(task.getFileName().toString()));
          }
        } catch (IOException | NumberFormatException e) {
          // ended meanwhile
        }
      }
    } catch (IOException e) {
      // no /proc: nothing to change
    }
    return found;
  }
}
