package dev.spanwire.exporter.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.exporter.testing.Corpora;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's rebuild ({@code build_agent} in scripts/lib.sh) leaves an agent that is still
 * running from the old jar its own file. The Maven shade plugin writes the jar in place (same
 * inode), so without care a second {@code ./spanwire} after the sources changed rewrote the file a
 * running JVM reads its classes from. A stand-in {@code mvnw} in a scratch tree writes the jar in
 * place as the plugin does; a descriptor held open on the old jar, as a running JVM holds it, must
 * still read the old bytes.
 */
class LauncherBuildTest {
  private static final Path ROOT = Corpora.projectDir();

  @Test
  void aRebuildLeavesTheJarARunningAgentHoldsOpenUnchanged(@TempDir Path tree) throws Exception {
    Path target = Files.createDirectories(tree.resolve("exporter/target"));
    Files.writeString(target.resolve("spanwire.jar"), "old jar");
    Path mvnw = tree.resolve("mvnw");
    // writes over the existing file's bytes, the same inode: as the shade plugin writes its output
    Files.writeString(mvnw, "#!/usr/bin/env bash\nprintf 'new jar' 1<> exporter/target/spanwire.jar\n");
    assertThat(mvnw.toFile().setExecutable(true)).isTrue();

    String script = ". \"$0\"/scripts/lib.sh; exec 3< \"$1\"/exporter/target/spanwire.jar; "
        + "build_agent \"$1\" \"$2\" 2>/dev/null; printf '%s|' \"$(cat <&3)\" \"$(cat \"$1\"/exporter/target/spanwire.jar)\"";
    Process process = new ProcessBuilder(List.of("bash", "-c", script, ROOT.toString(), tree.toString(),
        System.getProperty("java.home"))).redirectErrorStream(true).start();
    process.getOutputStream().close();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();

    assertThat(process.exitValue()).as(out).isZero();
    // the held descriptor reads what it opened; the path names the new build
    assertThat(out).isEqualTo("old jar|new jar|");
  }
}
