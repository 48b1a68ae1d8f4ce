package dev.spanwire.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class CaptureConfigTest {
  @Test
  void defaultsExcludeThisProcess() {
    CaptureConfig config = CaptureConfig.defaults();
    assertThat(config.agentPid()).isEqualTo(ProcessHandle.current().pid());
    assertThat(config.targetPid()).isZero();
    assertThat(config.captureBytes()).isEqualTo(4096);
    assertThat(config.wakeupBytes()).isEqualTo(1 << 20); // an eighth of the 8 MiB ring
    assertThat(config.pollInterval()).isEqualTo(java.time.Duration.ofMillis(50));
  }

  @Test
  void invalidValuesAreRefusedWithTheReason() {
    CaptureConfig config = CaptureConfig.defaults();
    assertThatThrownBy(() -> config.withCaptureBytes(0)).hasMessage("capture bytes must be 1..16384, got 0");
    assertThatThrownBy(() -> config.withCaptureBytes(16385)).hasMessage("capture bytes must be 1..16384, got 16385");
    assertThatThrownBy(() -> config.withRingBufferBytes(3 << 20)).hasMessageContaining("power of two");
    assertThatThrownBy(() -> config.withCapturePorts(List.of(0))).hasMessage("port must be 1..65535, got 0");
    assertThatThrownBy(() -> config.withCapturePorts(Collections.nCopies(17, 80))).hasMessage("at most 16 capture ports, got 17");
    assertThatThrownBy(() -> config.withTargetPid(-1)).hasMessage("pids must not be negative");
  }
}
