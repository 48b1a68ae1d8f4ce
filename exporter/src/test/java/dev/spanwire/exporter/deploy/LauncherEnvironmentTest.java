package dev.spanwire.exporter.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The C heap's settings the launcher ({@code exec_agent} in scripts/lib.sh) gives the agent's JVM:
 * glibc's mmap threshold at 32,000 bytes (the JIT's 32 KiB arena chunks go back to the system when
 * freed) for the JVM alone, never for the shell that sourced the script (the benchmarks start
 * their load generators from it), and a value the caller set kept. A stand-in {@code bin/java}
 * prints what it was given.
 */
class LauncherEnvironmentTest {
  private static String run(Path javaHome, Map<String, String> env, String script) throws Exception {
    Map<String, String> all = new HashMap<>(env);
    all.put("SPANWIRE_AOT", "0");
    LauncherScript.Run r = LauncherScript.run(null, all, List.of("MALLOC_MMAP_THRESHOLD_"), script, javaHome.toString());
    assertThat(r.exit()).as(r.err()).isZero();
    return r.out();
  }

  private static Path standInJdk(Path dir) throws Exception {
    Path java = Files.createDirectories(dir.resolve("bin")).resolve("java");
    Files.writeString(java, """
        #!/bin/sh
        printf 'threshold=%s arenas=%s args=%s' "${MALLOC_MMAP_THRESHOLD_-unset}" "${MALLOC_ARENA_MAX-unset}" "$*"
        """);
    assertThat(java.toFile().setExecutable(true)).isTrue();
    return dir;
  }

  @Test
  void theJvmGetsTheMmapThresholdAndTheShellThatSourcedTheScriptDoesNot(@TempDir Path dir) throws Exception {
    Path jdk = standInJdk(dir);
    assertThat(run(jdk, Map.of(), "exec_agent \"$1\" agent.jar --output none"))
        .startsWith("threshold=32000 arenas=2 args=")
        .endsWith("-jar agent.jar --output none");
    assertThat(run(jdk, Map.of(), "(exec_agent \"$1\" agent.jar) >/dev/null; printf '%s' \"${MALLOC_MMAP_THRESHOLD_-unset}\""))
        .isEqualTo("unset");
  }

  @Test
  void aThresholdTheCallerSetIsKept(@TempDir Path dir) throws Exception {
    assertThat(run(standInJdk(dir), Map.of("MALLOC_MMAP_THRESHOLD_", "131072"), "exec_agent \"$1\" agent.jar"))
        .startsWith("threshold=131072 ");
  }
}
