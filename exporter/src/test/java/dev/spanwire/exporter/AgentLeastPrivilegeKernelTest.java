package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import dev.spanwire.bpf.testing.Peers.Server;
import dev.spanwire.exporter.testing.OtlpReceiver;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent as user nobody with CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH only,
 * started the way README shows (setpriv): it captures, names the traced service from the
 * process's environment (another user's /proc/PID/environ), exports, and its debug log (-v) and
 * its events carry none of the request's secrets.
 */
@KernelTest
class AgentLeastPrivilegeKernelTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String CAPS = "+bpf,+perfmon,+sys_ptrace,+dac_read_search";
  /** CAP_DAC_READ_SEARCH (2), CAP_SYS_PTRACE (19), CAP_PERFMON (38), CAP_BPF (39), as /proc/PID/status shows them. */
  private static final String CAP_EFF = "000000c000080004";

  private static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      return "";
    }
  }

  private static String statusLine(long pid, String field) throws IOException {
    return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
        .filter(l -> l.startsWith(field + ":")).findFirst().orElseThrow().substring(field.length() + 1).strip();
  }

  /** Doctor with the same four capabilities: capture can work; the reader's catch-up priority cannot. */
  @Test
  void doctorWithFourCapabilitiesPassesAndWarnsOfTheCatchUpPriority() throws Exception {
    Peers.require("setpriv");
    Process doctor = AgentProcess.builder(
        List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=" + CAPS, "--ambient-caps=" + CAPS),
        "doctor").start();
    assertThat(doctor.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String stdout = new String(doctor.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(doctor.exitValue()).as(stdout).isZero();
    assertThat(stdout)
        .contains("ok       privileges           CAP_BPF + CAP_PERFMON\n")
        .contains("warn     catch-up priority    no CAP_SYS_NICE: the ring buffer reader keeps its nice value when it"
            + " falls behind (capture.catch-up-nice), and a busy host may fill the ring while the agent warms up"
            + " (fix: grant CAP_SYS_NICE)");
  }

  @Test
  void nobodyWithFourCapabilitiesCapturesNamesAndExportsAndLogsNoSecrets(@TempDir Path work) throws Exception {
    Peers.require("setpriv");
    Path script = Path.of(AgentLeastPrivilegeKernelTest.class.getResource("/peers/echo_server.py").toURI());
    try (OtlpReceiver receiver = OtlpReceiver.start();
        Server server = Peers.pythonScript(script, Map.of("OTEL_SERVICE_NAME", "least-privilege"))) {
      Path log = work.resolve("agent.log");
      ProcessBuilder builder = AgentProcess.builder(
          List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=" + CAPS, "--ambient-caps=" + CAPS),
          "-v", "--output", "json");
      builder.environment().putAll(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint(), "OTEL_BSP_SCHEDULE_DELAY", "200"));
      Process agent = AgentProcess.start(builder, log);
      List<String> events = new CopyOnWriteArrayList<>();
      Thread.ofPlatform().daemon().start(() -> agent.inputReader().lines().forEach(events::add));
      try {
        Await.until("the agent to capture", TIMEOUT, () -> read(log).contains("capturing on"), () -> read(log));
        assertThat(statusLine(agent.pid(), "Uid")).startsWith("65534\t65534\t65534\t65534");
        assertThat(statusLine(agent.pid(), "CapEff")).isEqualTo(CAP_EFF);

        Peers.run(TIMEOUT, "curl", "-s", "-o", "/dev/null", "-H", "Authorization: Bearer s3cr3t-t0ken",
            "-H", "Cookie: session=c00kie-value", server.url("/private?password=hunter2&id=7")).assertSuccess();
        Await.until("the server's span, named from its environment", TIMEOUT,
            () -> receiver.spansOf("least-privilege").size() == 1, () -> "(spans " + receiver.spans().size() + ")\n" + read(log));
        Span span = receiver.spansOf("least-privilege").getFirst();
        assertThat(span.getName()).isEqualTo("GET /private");
        Await.until("both http-resp events", TIMEOUT,
            () -> events.stream().filter(e -> e.contains("\"http-resp\"") && e.contains("/private")).count() == 2);
      } finally {
        agent.destroy();
        assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
      }
      String everything = read(log) + String.join("\n", events) + receiver.spans();
      assertThat(read(log)).as("a debug log").contains(" FINE ").doesNotContain("jdk.event.security");
      assertThat(everything).doesNotContain("s3cr3t-t0ken").doesNotContain("c00kie-value").doesNotContain("hunter2");
    }
  }
}
