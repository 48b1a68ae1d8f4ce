package dev.spanwire.exporter.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import dev.spanwire.exporter.testing.Corpora;
import dev.spanwire.exporter.testing.Mutator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import dev.spanwire.bpf.testing.Fuzz;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the configuration loader: mutants of the shipped config/application.conf as a --config
 * file, and every key of reference.conf set to hostile values from the file, the environment and
 * the command line. The loader gives settings or a {@link BadConfigException} naming what is
 * wrong; nothing else escapes (a Typesafe Config exception, a NumberFormatException, a
 * PatternSyntaxException would reach the user as a stack trace).
 */
class SettingsFuzzTest {
  private static final List<String> HOSTILE = List.of(
      "-1", "0", "1", "65536", "99999999999999999999", "1e308", "-0.5", "NaN", "abc", "\"\"", "[]", "{}", "null", "true",
      "[1, 2, x]", "[\"(\"]", "\"(unclosed\"", "\"[a-\"", "1 GiB", "17 PB", "-5 KiB", "1 ms", "1000000 days", "-1 s",
      "\"${?HOME}\"", "\"\\u0000\"", "\"" + "x".repeat(10_000) + "\"", "[\"any\", 80]", "\"+user,-pid\"", "\"0.0.0.0:99999\"",
      "\"http://\"", "\"://nope\"", "\"json\"", "\"statsd\"", "\"none\"", "\"raw\"");
  private static final List<String> HOSTILE_TEXT = List.of(
      "", "-1", "0", "99999999999999999999", "abc", "any", "+x,-y", "a,+b", "1 GiB", "-1 s", "(", "[a-", "http://", ",,,",
      "x".repeat(10_000), "\u0000", "80,any", "1,2,70000");
  private static List<String> keys;
  private static byte[] applicationConf;
  private static Path dir;

  @BeforeAll
  static void keys() throws IOException {
    keys = new ArrayList<>();
    for (Map.Entry<String, ConfigValue> e : ConfigLayers.reference().entrySet()) {
      keys.add(e.getKey());
    }
    java.util.Collections.sort(keys);
    applicationConf = Files.readAllBytes(Corpora.projectDir().resolve("config/application.conf"));
    dir = Files.createTempDirectory("settings-fuzz");
  }

  @AfterAll
  static void cleanUp() throws IOException {
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
    Files.delete(dir);
  }

  /** One attempt: a config file's text, and overrides from the environment and the command line. */
  record Attempt(String file, List<ConfigLayers.Override> environment, List<ConfigLayers.Override> flags) {
    @Override
    public String toString() {
      return "Attempt[file=" + file.replace("\n", "\\n") + ", environment=" + environment + ", flags=" + flags + "]";
    }
  }

  private static <T> T pick(List<T> from, Random random) {
    return from.get(random.nextInt(from.size()));
  }

  private static Attempt attempt(Random random) {
    String file;
    if (random.nextBoolean()) {
      file = new String(Mutator.mutate(List.of(applicationConf), applicationConf, random), StandardCharsets.ISO_8859_1);
    } else {
      StringBuilder b = new StringBuilder();
      for (int i = 1 + random.nextInt(3); i > 0; i--) {
        b.append(pick(keys, random)).append(" = ").append(pick(HOSTILE, random)).append('\n');
      }
      file = b.toString();
    }
    return new Attempt(file, overrides(random), overrides(random));
  }

  private static List<ConfigLayers.Override> overrides(Random random) {
    List<ConfigLayers.Override> overrides = new ArrayList<>();
    for (int i = random.nextInt(3); i > 0; i--) {
      overrides.add(new ConfigLayers.Override(pick(keys, random), pick(HOSTILE_TEXT, random), "fuzz"));
    }
    return overrides;
  }

  @Test
  void settingsOrABadConfigExceptionNothingElse() {
    Fuzz.run("settings", random -> check(attempt(random)));
  }

  private static void check(Attempt a) throws IOException {
    Path file = dir.resolve("fuzz.conf");
    Files.writeString(file, a.file(), StandardCharsets.ISO_8859_1);
    try {
      Config config = ConfigLayers.load(ConfigLayers.file(file), a.environment(), a.flags());
      Settings.from(config);
    } catch (BadConfigException expected) {
      if (expected.getMessage() == null || expected.getMessage().isBlank()) {
        throw new AssertionError("a refusal without a message: " + a, expected);
      }
    } catch (RuntimeException other) {
      throw new AssertionError(a.toString(), other);
    }
  }
}
