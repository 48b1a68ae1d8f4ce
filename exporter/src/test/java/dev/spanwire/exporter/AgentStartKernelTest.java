package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.Capabilities;
import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.KernelTest;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's start as a user runs it (its own process, OTLP export on): the start's raised
 * priority stays with the start. Every thread that lives on runs at the agent's own nice value
 * once it captures, and the compilers get theirs back after the warm-up.
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

  private static boolean compiler(String thread) {
    return thread.startsWith("C1 Compiler") || thread.startsWith("C2 Compiler");
  }

  @Test
  void onceItCapturesEveryThreadButTheCompilersRunsAtTheAgentsValueAndTheyGetItBackAfterTheWarmup(@TempDir Path work) {
    try (AgentRun agent = AgentRun.start(work.resolve("agent.log"),
        "--output", "json", "--otlp-endpoint", "http://127.0.0.1:9", "--otlp-protocol", "grpc")) {
      long pid = agent.process().pid();
      Map<String, Integer> nices = threadNices(pid);
      // the process's first thread (the launcher's, waiting for the JVM's main thread) never changes its value
      int normal = nices.entrySet().stream().filter(e -> e.getKey().endsWith(" " + pid)).findFirst().orElseThrow().getValue();
      assertThat(nices.keySet()).as("threads").anyMatch(t -> t.startsWith("spanwire-ringbu")).anyMatch(AgentStartKernelTest::compiler);
      nices.forEach((thread, nice) -> {
        if (!compiler(thread)) {
          assertThat(nice).as("%s of %s", thread, nices).isEqualTo(normal);
        }
      });
      if (Capabilities.current().has(Capabilities.CAP_SYS_NICE)) {
        Await.until("the compilers five ahead", Duration.ofSeconds(3),
            () -> threadNices(pid).entrySet().stream().filter(e -> compiler(e.getKey())).allMatch(e -> e.getValue() == normal - 5),
            () -> threadNices(pid).toString());
      }
      Await.until("the compilers back at the agent's value", Duration.ofSeconds(15),
          () -> threadNices(pid).entrySet().stream().filter(e -> compiler(e.getKey())).allMatch(e -> e.getValue() == normal),
          () -> threadNices(pid).toString());
      assertThat(threadNices(pid)).as("every thread at the agent's value").allSatisfy((thread, nice) -> assertThat(nice).isEqualTo(normal));
    }
  }
}
