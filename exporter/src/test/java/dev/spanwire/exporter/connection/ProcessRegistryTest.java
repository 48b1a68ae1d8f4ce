package dev.spanwire.exporter.connection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.exporter.exchange.ProcessInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the registry reads of a process, against a /proc tree written here. */
class ProcessRegistryTest {
  @TempDir Path proc;

  private Path process(int pid, String comm, String environ) throws IOException {
    Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
    Files.writeString(dir.resolve("comm"), comm + "\n");
    Files.writeString(dir.resolve("cmdline"), "/usr/bin/" + comm + "\0-c\0pass\0");
    Files.writeString(dir.resolve("environ"), environ);
    Files.writeString(dir.resolve("status"), "Name:\t" + comm + "\nUmask:\t0022\nState:\tS\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n");
    // field 22 (starttime) is the 20th after the command name
    Files.writeString(dir.resolve("stat"), pid + " (" + comm + ") S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 424242 20 21\n");
    return dir;
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Test
  void whatWasReadAtExecOutlivesAProcessThatExitsBeforeItsConnectionIsHandled() throws IOException {
    Path dir = process(777, "python3", "PATH=/bin\0OTEL_SERVICE_NAME=py-client\0");
    ProcessRegistry registry = new ProcessRegistry(proc);
    registry.prefetch(777, 1_000);
    delete(dir); // the client is gone by the time its connection's first event is read

    ProcessInfo info = registry.get(777, "python3", "python3 -c pass", 0, 0, 2_000);
    assertThat(info.serviceName()).isEqualTo("py-client");
    assertThat(info.uid()).isEqualTo(1000);
    assertThat(info.gid()).isEqualTo(100);
  }

  @Test
  void aZombieReadAtExecLeavesTheKernelsCommandLineInPlace() throws IOException {
    Path dir = process(779, "curl", "");
    Files.writeString(dir.resolve("cmdline"), ""); // exited, not yet reaped
    Files.writeString(dir.resolve("status"), "Name:\tcurl\nState:\tZ (zombie)\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n");
    ProcessRegistry registry = new ProcessRegistry(proc);
    registry.prefetch(779, 1_000);
    delete(dir);

    ProcessInfo info = registry.get(779, "curl", "curl\0-s\0http://127.0.0.1/", 0, 0, 2_000);
    assertThat(info.commandLine()).isEqualTo("curl -s http://127.0.0.1/");
  }

  @Test
  void withoutThePrefetchTheKernelsNamesStandIn() throws IOException {
    Path dir = process(778, "python3", "OTEL_SERVICE_NAME=py-client\0");
    ProcessRegistry registry = new ProcessRegistry(proc);
    delete(dir);
    registry.prefetch(778, 1_000); // gone already: nothing cached

    ProcessInfo info = registry.get(778, "python3", "python3\0-c\0pass", 0, 0, 2_000);
    assertThat(info.serviceName()).isNull();
    assertThat(info.comm()).isEqualTo("python3");
  }
}
