package dev.spanwire.exporter.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.exporter.testing.Corpora;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a bash script after sourcing the launcher's scripts/lib.sh, as the launcher tests do. */
final class LauncherScript {
  static final Path ROOT = Corpora.projectDir();

  record Run(int exit, String out, String err) {}

  private LauncherScript() {}

  /**
   * Runs {@code script} after sourcing scripts/lib.sh, in {@code workingDir} (null: this JVM's),
   * with {@code env} added to the environment and {@code unset} removed from it; {@code $1...}
   * are {@code args}.
   */
  static Run run(Path workingDir, Map<String, String> env, List<String> unset, String script, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("bash", "-c", ". \"$0\"/scripts/lib.sh; " + script, ROOT.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    if (workingDir != null) {
      builder.directory(workingDir.toFile());
    }
    unset.forEach(builder.environment()::remove);
    builder.environment().putAll(env);
    Path err = Files.createTempFile("launcher", ".err");
    try {
      Process process = builder.redirectError(err.toFile()).start();
      process.getOutputStream().close();
      byte[] out = process.getInputStream().readAllBytes();
      assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
      return new Run(process.exitValue(), new String(out, StandardCharsets.UTF_8), Files.readString(err));
    } finally {
      Files.delete(err);
    }
  }
}
