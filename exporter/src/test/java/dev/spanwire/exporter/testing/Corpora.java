package dev.spanwire.exporter.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** The external test corpora in {@code ../shared/corpora}, relative to the project root. */
public final class Corpora {
  private Corpora() {}

  /** The corpus folder; missing, the test is skipped with the reason, or fails under CI=true. */
  public static Path require(String relative) {
    Path project = Path.of(System.getenv().getOrDefault("SPANWIRE_PROJECT_DIR", "..")).toAbsolutePath();
    Path folder = project.resolve("../shared/corpora").resolve(relative).normalize();
    if (!Files.isDirectory(folder)) {
      String reason = "corpus " + folder + " is missing";
      if ("true".equals(System.getenv("CI"))) {
        throw new AssertionError(reason);
      }
      Assumptions.abort(reason);
    }
    return folder;
  }
}
