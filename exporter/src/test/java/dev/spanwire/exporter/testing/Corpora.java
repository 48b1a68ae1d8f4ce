package dev.spanwire.exporter.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * The external test corpora in {@code ../shared/corpora}, relative to the project root; for a
 * local clone (say {@code git clone . /tmp/fresh}), relative to the repository it was cloned from.
 */
public final class Corpora {
  private static final Pattern ORIGIN = Pattern.compile("(?m)^\\s*url\\s*=\\s*(?:file://)?(/\\S+)\\s*$");

  private Corpora() {}

  /** The repository's root folder (Maven runs the tests in the module's folder). */
  public static Path projectDir() {
    return Path.of(System.getenv().getOrDefault("SPANWIRE_PROJECT_DIR", "..")).toAbsolutePath().normalize();
  }

  /** The corpus folder; missing, the test is skipped with the reason, or fails under CI=true. */
  public static Path require(String relative) {
    Path project = projectDir();
    List<Path> tried = new ArrayList<>();
    for (Path root : roots(project)) {
      Path folder = root.resolve("../shared/corpora").resolve(relative).normalize();
      if (Files.isDirectory(folder)) {
        return folder;
      }
      tried.add(folder);
    }
    String reason = "corpus " + relative + " is missing (looked in " + tried + ")";
    if (dev.spanwire.bpf.testing.Ci.on()) {
      throw new AssertionError(reason);
    }
    Assumptions.abort(reason);
    throw new AssertionError(reason);
  }

  /** The project root, then the local repository it was cloned from, if any. */
  private static List<Path> roots(Path project) {
    List<Path> roots = new ArrayList<>(List.of(project));
    try {
      Matcher origin = ORIGIN.matcher(Files.readString(project.resolve(".git/config")));
      if (origin.find()) {
        roots.add(Path.of(origin.group(1)));
      }
    } catch (IOException e) {
      // not a git checkout: only the project root
    }
    return roots;
  }
}
