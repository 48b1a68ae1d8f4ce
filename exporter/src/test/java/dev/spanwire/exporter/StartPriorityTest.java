package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.Capabilities;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Nice values as the kernel shows them (/proc/thread-self/stat), during a start and after it. */
class StartPriorityTest {
  private static final boolean MAY_RAISE = Capabilities.current().has(Capabilities.CAP_SYS_NICE);

  /** Field 19 of the calling thread's stat line (counted after the command name, which may hold spaces). */
  private static int ownNice() {
    try {
      String stat = Files.readString(Path.of("/proc/thread-self/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Integer.parseInt(fields[19 - 3]);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Runs {@code body} on a thread of its own (nice values stay with a thread) and returns what it saw. */
  private static List<Integer> onThread(ThrowingBody body) throws InterruptedException {
    AtomicReference<List<Integer>> seen = new AtomicReference<>();
    AtomicReference<Throwable> failed = new AtomicReference<>();
    Thread thread = Thread.ofPlatform().start(() -> {
      try {
        List<Integer> values = new ArrayList<>();
        body.run(values);
        seen.set(values);
      } catch (Throwable t) {
        failed.set(t);
      }
    });
    thread.join();
    assertThat(failed.get()).isNull();
    return seen.get();
  }

  @FunctionalInterface
  private interface ThrowingBody {
    void run(List<Integer> values) throws Exception;
  }

  /** The nice value a thread started now from the calling thread begins with. */
  private static int newThreadsNice(Runnable work) throws InterruptedException {
    AtomicReference<Integer> seen = new AtomicReference<>();
    Thread thread = Thread.ofPlatform().start(() -> {
      work.run();
      seen.set(ownNice());
    });
    thread.join();
    return seen.get();
  }

  @Test
  void theStartingThreadAndWhatItStartsGoTenAheadUntilClosedButNotWorkAtNormal() throws Exception {
    List<Integer> seen = onThread(values -> {
      values.add(ownNice());
      try (StartPriority priority = StartPriority.raise()) {
        values.add(ownNice());
        values.add(newThreadsNice(() -> {}));
        values.add(newThreadsNice(priority.atNormal(() -> {})));
        priority.close();
        values.add(ownNice());
      }
      values.add(newThreadsNice(() -> {}));
    });
    int before = seen.get(0);
    int raised = MAY_RAISE ? Math.max(-20, before - 10) : before;
    assertThat(seen).containsExactly(before, raised, raised, before, before, before);
  }
}
