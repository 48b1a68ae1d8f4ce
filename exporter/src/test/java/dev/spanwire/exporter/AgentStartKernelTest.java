package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.testing.KernelTest;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's start as a user runs it (its own process, OTLP export on): the start's raised
 * priority stays with the start; every thread runs at the agent's own nice value once it captures.
 */
@KernelTest
class AgentStartKernelTest {
  /** Each thread of {@code pid} as "name tid" -> its nice value (field 19 of its stat line). */
  private static Map<String, Integer> threadNices(long pid) {
    Map<String, Integer> nices = new TreeMap<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
      for (Path task : tasks) {
        try {
          String stat = Files.readString(task.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          nices.put(name + " " + task.getFileName(), Integer.parseInt(fields[19 - 3]));
        } catch (IOException e) {
          // ended meanwhile
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("no process " + pid, e);
    }
    return nices;
  }

  @Test
  void onceItCapturesEveryThreadRunsAtTheAgentsValue(@TempDir Path work) {
    try (AgentRun agent = AgentRun.start(work.resolve("agent.log"),
        "--output", "json", "--otlp-endpoint", "http://127.0.0.1:9", "--otlp-protocol", "grpc")) {
      long pid = agent.process().pid();
      Map<String, Integer> nices = threadNices(pid);
      // the process's first thread (the launcher's, waiting for the JVM's main thread) never changes its value
      int normal = nices.entrySet().stream().filter(e -> e.getKey().endsWith(" " + pid)).findFirst().orElseThrow().getValue();
      assertThat(nices.keySet()).as("threads")
          .anyMatch(t -> t.startsWith("spanwire-ringbu")).anyMatch(t -> t.startsWith("spanwire-span-e"))
          .anyMatch(t -> t.startsWith("C2 Compiler"));
      // but the preparing thread, start work that ends by itself (it starts no thread), if it is still at it
      nices.keySet().removeIf(t -> t.startsWith("spanwire-prepa"));
      assertThat(nices).as("every thread at the agent's value").allSatisfy((thread, nice) -> assertThat(nice).isEqualTo(normal));
    }
  }
}
