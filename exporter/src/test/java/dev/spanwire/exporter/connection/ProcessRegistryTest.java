package dev.spanwire.exporter.connection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.filter.Redaction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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

  /**
   * The client exits while the prefetch reads it: its memory (command line, environment) goes
   * first, the /proc entry stays until it is reaped. Whether it goes after the prefetch's first
   * look at the command line or after the full read of it, nothing half-read is cached over what
   * the kernel's event carries.
   */
  @ParameterizedTest(name = "exits after command-line read {0}")
  @ValueSource(ints = {1, 2})
  void aProcessThatExitsWhileThePrefetchReadsItLeavesTheKernelsCommandLineInPlace(int exitAfter) throws IOException {
    Path dir = process(781, "curl", "OTEL_SERVICE_NAME=fetcher\0");
    Path cmdline = dir.resolve("cmdline");
    int[] cmdlineReads = {0};
    ProcessRegistry.ProcFiles exitsMidway = (path, max) -> {
      byte[] bytes = readFile(path, max);
      if (path.equals(cmdline) && ++cmdlineReads[0] == exitAfter) {
        write(cmdline, ""); // exit_mm: no command line, no environment any more
        write(dir.resolve("environ"), "");
      }
      return bytes;
    };
    ProcessRegistry registry = new ProcessRegistry(proc, Redaction.defaults(), exitsMidway);
    registry.prefetch(781, 1_000);
    assertThat(cmdlineReads[0]).as("the prefetch read the command line at least this often").isGreaterThanOrEqualTo(exitAfter);
    assertThat(registry.size()).as("nothing half-read is cached").isZero();
    delete(dir); // reaped before its connection's first event is handled

    ProcessInfo info = registry.get(781, "curl", "curl\0-s\0http://127.0.0.1/", 0, 0, 2_000);
    assertThat(info.commandLine()).isEqualTo("curl -s http://127.0.0.1/");
    assertThat(info.executable()).isEqualTo("curl");
  }

  @Test
  void aProcessThatStaysWhileThePrefetchReadsItIsCachedWhole() throws IOException {
    Path dir = process(782, "curl", "OTEL_SERVICE_NAME=fetcher\0");
    int[] reads = {0};
    ProcessRegistry registry = new ProcessRegistry(proc, Redaction.defaults(),
        (path, max) -> {
          reads[0]++;
          return readFile(path, max);
        });
    registry.prefetch(782, 1_000);
    assertThat(reads[0]).as("the reader given is the one used").isPositive();
    delete(dir);

    ProcessInfo info = registry.get(782, "curl", "curl\0-x", 0, 0, 2_000);
    assertThat(info.commandLine()).isEqualTo("/usr/bin/curl -c pass");
    assertThat(info.serviceName()).isEqualTo("fetcher");
  }

  private static byte[] readFile(Path path, int max) {
    try (java.io.InputStream in = Files.newInputStream(path)) {
      return in.readNBytes(max);
    } catch (IOException e) {
      return null;
    }
  }

  private static void write(Path path, String text) {
    try {
      Files.writeString(path, text);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
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

  /** A process whose /proc/PID/stat gives {@code startTime} as field 22, under {@code comm} as the kernel writes it. */
  private Path process(int pid, String comm, String environ, String statComm, long startTime) throws IOException {
    Path dir = process(pid, comm, environ);
    Files.writeString(dir.resolve("stat"),
        pid + " (" + statComm + ") S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 " + startTime + " 20 21\n");
    return dir;
  }

  /**
   * A pid reused by another program: within the revalidation period the cached process stands
   * (no /proc read per exchange); past it the start time differs and the new one is read. The same
   * start time keeps the cache, whatever else changed. A command name with spaces and parentheses
   * does not move the start time's field.
   */
  @Test
  void aReusedPidIsReadAnewOnceItsStartTimeDiffers() throws IOException {
    Path first = process(800, "nginx", "OTEL_SERVICE_NAME=web\0", "nginx: (worker) x", 1000);
    ProcessRegistry registry = new ProcessRegistry(proc);
    assertThat(registry.get(800, "nginx", "", 0, 0, 0).serviceName()).isEqualTo("web");

    Files.writeString(first.resolve("environ"), "OTEL_SERVICE_NAME=changed\0");
    long later = ProcessRegistry.REVALIDATE_NANOS;
    assertThat(registry.get(800, "nginx", "", 0, 0, later).serviceName()).as("same start time: cached").isEqualTo("web");

    delete(first);
    process(800, "python3", "OTEL_SERVICE_NAME=batch\0", "python3", 2000);
    assertThat(registry.get(800, "python3", "", 0, 0, later + 1).serviceName()).as("within the period").isEqualTo("web");
    ProcessInfo reused = registry.get(800, "python3", "", 0, 0, 2 * later);
    assertThat(reused.serviceName()).isEqualTo("batch");
    assertThat(reused.comm()).isEqualTo("python3");
    assertThat(reused.executable()).isEqualTo("python3");
    assertThat(registry.size()).isEqualTo(1);
  }

  @Test
  void theSweepForgetsExactlyTheProcessesThatExitedAndTheBoundDropsTheLeastRecentlyUsed() throws IOException {
    ProcessRegistry registry = new ProcessRegistry(proc);
    for (int pid = 1; pid <= 5; pid++) {
      process(pid, "p" + pid, "");
      registry.get(pid, "p" + pid, "", 0, 0, 0);
    }
    delete(proc.resolve("2"));
    delete(proc.resolve("4"));
    assertThat(registry.sweep()).isEqualTo(2);
    assertThat(registry.size()).isEqualTo(3);
    assertThat(registry.sweep()).isZero();

    // the bound: processes that /proc no longer has are still cached until the sweep; past
    // MAX_PROCESSES the least recently used goes
    ProcessRegistry bounded = new ProcessRegistry(proc);
    for (int pid = 10_000; pid < 10_000 + ProcessRegistry.MAX_PROCESSES; pid++) {
      bounded.get(pid, "gone", "gone\0", 0, 0, 0);
    }
    bounded.get(10_000, "gone", "gone\0", 0, 0, 1); // used again: now the most recent
    bounded.get(99_999, "new", "new\0", 0, 0, 2);
    assertThat(bounded.size()).isEqualTo(ProcessRegistry.MAX_PROCESSES);
    // 10,001 was the least recently used: it is read anew (its kernel name stands in again)
    assertThat(bounded.get(10_001, "again", "again\0", 0, 0, 3).comm()).isEqualTo("again");
    assertThat(bounded.get(10_000, "other", "other\0", 0, 0, 4).comm()).as("still cached").isEqualTo("gone");
  }

  /** Real /proc/PID/cgroup shapes: cgroup v2 under containerd, CRI-O and Docker, v1 under Docker, and a host process. */
  @Test
  void theContainerIdComesFromTheCgroupPathOfEachRuntime() throws IOException {
    String id = "4e1a3c5d7b9f2a6c8e0d1b3f5a7c9e2d4f6b8a0c2e4d6f8a1b3c5e7d9f0a2b4c";
    java.util.Map<String, String> shapes = java.util.Map.of(
        "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod8f6a2b1c_3d4e_4f5a_9b8c_7d6e5f4a3b2c.slice/cri-containerd-"
            + id + ".scope\n", "containerd",
        "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a1b2c3d_4e5f_6a7b_8c9d_0e1f2a3b4c5d.slice/crio-"
            + id + ".scope\n", "cri-o",
        "0::/system.slice/docker-" + id + ".scope\n", "docker (systemd driver)",
        "0::/docker/" + id + "\n", "docker (cgroupfs driver)",
        "12:memory:/docker/" + id + "\n11:cpu,cpuacct:/docker/" + id + "\n0::/\n", "docker, cgroup v1");
    int pid = 900;
    for (var shape : shapes.entrySet()) {
      Path dir = process(pid, "app", "");
      Files.writeString(dir.resolve("cgroup"), shape.getKey());
      ProcessInfo info = new ProcessRegistry(proc).get(pid, "app", "app", 0, 0, 1_000);
      assertThat(info.containerId()).as(shape.getValue()).isEqualTo(id);
      pid++;
    }
    Path host = process(pid, "sshd", "");
    Files.writeString(host.resolve("cgroup"), "0::/system.slice/ssh.service\n");
    assertThat(new ProcessRegistry(proc).get(pid, "sshd", "sshd", 0, 0, 1_000).containerId()).isNull();
  }

  @Test
  void aProcessesOwnResourceAttributesAreReadDecodedBoundedAndRedacted() throws IOException {
    process(950, "java", "PATH=/bin\0OTEL_RESOURCE_ATTRIBUTES=service.name=orders,deployment.environment=prod,"
        + "k8s.pod.name=orders-7d%2C9,broken,api.key=s3cr3t,=nokey\0");
    ProcessInfo info = new ProcessRegistry(proc).get(950, "java", "java", 0, 0, 1_000);
    assertThat(info.resourceAttributes()).containsExactlyInAnyOrderEntriesOf(java.util.Map.of(
        "service.name", "orders", "deployment.environment", "prod", "k8s.pod.name", "orders-7d,9", "api.key", "REDACTED"));
    assertThat(info.service()).isEqualTo("orders");
    assertThat(info.serviceSource()).isEqualTo("OTEL_RESOURCE_ATTRIBUTES");

    process(951, "java", "OTEL_SERVICE_NAME=billing\0OTEL_RESOURCE_ATTRIBUTES=service.name=orders\0");
    ProcessInfo named = new ProcessRegistry(proc).get(951, "java", "java", 0, 0, 1_000);
    assertThat(named.service()).as("OTEL_SERVICE_NAME wins, as in the SDKs").isEqualTo("billing");
    assertThat(named.serviceSource()).isEqualTo("OTEL_SERVICE_NAME");

    process(952, "nginx", "PATH=/bin\0");
    ProcessInfo unnamed = new ProcessRegistry(proc).get(952, "nginx", "nginx", 0, 0, 1_000);
    assertThat(unnamed.service()).isEqualTo("nginx");
    assertThat(unnamed.serviceSource()).isEqualTo("executable");

    StringBuilder many = new StringBuilder("OTEL_RESOURCE_ATTRIBUTES=");
    for (int i = 0; i < 100; i++) {
      many.append("k").append(i).append("=v,");
    }
    many.append("long=").append("x".repeat(2000));
    process(953, "app", many + "\0");
    assertThat(new ProcessRegistry(proc).get(953, "app", "app", 0, 0, 1_000).resourceAttributes())
        .hasSize(ProcessRegistry.MAX_RESOURCE_ATTRIBUTES).doesNotContainKey("long");
  }
}
