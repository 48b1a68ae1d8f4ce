package dev.spanwire.exporter.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
  @Test
  void aRebuildLeavesTheJarARunningAgentHoldsOpenUnchanged(@TempDir Path tree) throws Exception {
    Path target = Files.createDirectories(tree.resolve("exporter/target"));
    Files.writeString(target.resolve("spanwire.jar"), "old jar");
    Path mvnw = tree.resolve("mvnw");
    // writes over the existing file's bytes, the same inode: as the shade plugin writes its output
    Files.writeString(mvnw, "#!/usr/bin/env bash\nprintf 'new jar' 1<> exporter/target/spanwire.jar\n");
    assertThat(mvnw.toFile().setExecutable(true)).isTrue();

    LauncherScript.Run r = LauncherScript.run(null, Map.of(), List.of(),
        "exec 3< \"$1\"/exporter/target/spanwire.jar; build_agent \"$1\" \"$2\" 2>/dev/null; "
            + "printf '%s|' \"$(cat <&3)\" \"$(cat \"$1\"/exporter/target/spanwire.jar)\"",
        tree.toString(), System.getProperty("java.home"));

    assertThat(r.exit()).as(r.out() + r.err()).isZero();
    // the held descriptor reads what it opened; the path names the new build
    assertThat(r.out()).isEqualTo("old jar|new jar|");
  }
}
