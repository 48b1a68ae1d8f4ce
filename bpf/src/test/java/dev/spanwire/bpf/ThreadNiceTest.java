package dev.spanwire.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** A thread's nice value, as the kernel shows it in /proc/thread-self/stat. */
class ThreadNiceTest {
  /** Field 19 of the calling thread's stat line (the fields after the command name, which may hold spaces). */
  private static int kernelNice() throws IOException {
    String stat = Files.readString(Path.of("/proc/thread-self/stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Integer.parseInt(fields[19 - 3]);
  }

  /** Runs {@code body} on a thread of its own (a nice value set stays with the thread) and returns what it saw. */
  private static String onThread(ThrowingSupplier body) throws InterruptedException {
    AtomicReference<String> seen = new AtomicReference<>();
    Thread thread = Thread.ofPlatform().start(() -> {
      try {
        seen.set(body.get());
      } catch (Exception e) {
        seen.set("failed: " + e);
      }
    });
    thread.join();
    return seen.get();
  }

  @FunctionalInterface
  private interface ThrowingSupplier {
    String get() throws Exception;
  }

  @Test
  void raisingTheNiceValueChangesOnlyTheCallingThread() throws Exception {
    int before = kernelNice();
    String seen = onThread(() -> {
      String refused = ThreadNice.set(7);
      return refused + " " + ThreadNice.get() + " " + kernelNice();
    });
    // raising a nice value needs no privilege
    assertThat(seen).isEqualTo("null 7 7");
    assertThat(kernelNice()).isEqualTo(before);
  }

  @Test
  void aValueBelowZeroTakesCapSysNice() throws Exception {
    String seen = onThread(() -> ThreadNice.set(-5) + " " + kernelNice());
    if (Capabilities.current().has(Capabilities.CAP_SYS_NICE)) {
      assertThat(seen).isEqualTo("null -5");
    } else {
      assertThat(seen).startsWith("setpriority(-5): Permission denied");
    }
  }

  @Test
  void valuesOutsideLinuxsRangeAreRefused() {
    assertThatThrownBy(() -> ThreadNice.set(-21)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("nice must be -20..19, got -21");
    assertThatThrownBy(() -> ThreadNice.set(20)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("nice must be -20..19, got 20");
  }
}
