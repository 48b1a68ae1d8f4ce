package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.testing.Peers;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Without capabilities the agent says so in one line and exits with its own code. */
class PrivilegeTest {
  @Test
  void withoutCapabilitiesTheAgentExitsWithOneClearLine() throws Exception {
    Peers.require("setpriv");
    // an empty bounding set leaves the process without any capability, even as uid 0
    Process agent =
        AgentProcess.builder(List.of("setpriv", "--bounding-set=-all", "--inh-caps=-all"))
            .start();
    assertThat(agent.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String stderr = new String(agent.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    String stdout = new String(agent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

    assertThat(agent.exitValue()).isEqualTo(ExitCode.NO_CAPABILITY);
    assertThat(stdout).isEmpty();
    assertThat(stderr.lines().toList())
        .containsExactly(
            "spanwire: capture needs root or CAP_BPF and CAP_PERFMON (missing CAP_BPF, CAP_PERFMON);"
                + " run as root, or see 'spanwire doctor'");
  }

  @Test
  void doctorWithoutCapabilitiesNamesTheFixAndFails() throws Exception {
    Peers.require("setpriv");
    Process doctor =
        AgentProcess.builder(List.of("setpriv", "--bounding-set=-all", "--inh-caps=-all"), "doctor").start();
    assertThat(doctor.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String stdout = new String(doctor.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(doctor.exitValue()).isEqualTo(ExitCode.NO_CAPABILITY);
    assertThat(stdout)
        .contains("missing  privileges           missing CAP_BPF, CAP_PERFMON (fix: run as root")
        .contains("capture cannot work");
  }
}
