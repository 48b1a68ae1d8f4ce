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
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

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

  @BeforeContainer
  static void keys() throws IOException {
    keys = new ArrayList<>();
    for (Map.Entry<String, ConfigValue> e : ConfigLayers.reference().entrySet()) {
      keys.add(e.getKey());
    }
    java.util.Collections.sort(keys);
    applicationConf = Files.readAllBytes(Corpora.projectDir().resolve("config/application.conf"));
    dir = Files.createTempDirectory("settings-fuzz");
  }

  @AfterContainer
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

  @Provide
  Arbitrary<Attempt> attempts() {
    Arbitrary<String> mutatedFile = Arbitraries.longs().map(seed ->
        new String(Mutator.mutate(List.of(applicationConf), applicationConf, new Random(seed)), StandardCharsets.ISO_8859_1));
    Arbitrary<String> keyFile = Combinators.combine(Arbitraries.of(keys).list().ofMinSize(1).ofMaxSize(3),
            Arbitraries.of(HOSTILE).list().ofSize(3))
        .as((ks, vs) -> {
          StringBuilder b = new StringBuilder();
          for (int i = 0; i < ks.size(); i++) {
            b.append(ks.get(i)).append(" = ").append(vs.get(i)).append('\n');
          }
          return b.toString();
        });
    Arbitrary<List<ConfigLayers.Override>> overrides = Combinators.combine(Arbitraries.of(keys), Arbitraries.of(HOSTILE_TEXT))
        .as((k, v) -> new ConfigLayers.Override(k, v, "fuzz")).list().ofMaxSize(2);
    return Combinators.combine(Arbitraries.oneOf(mutatedFile, keyFile), overrides, overrides).as(Attempt::new);
  }

  @Property
  void settingsOrABadConfigExceptionNothingElse(@ForAll("attempts") Attempt a) throws IOException {
    Path file = dir.resolve("fuzz.conf");
    Files.writeString(file, a.file(), StandardCharsets.ISO_8859_1);
    try {
      Config config = ConfigLayers.load(ConfigLayers.file(file), a.environment(), a.flags());
      Settings.from(config);
    } catch (BadConfigException expected) {
      if (expected.getMessage() == null || expected.getMessage().isBlank()) {
        throw new AssertionError("a refusal without a message", expected);
      }
    }
  }
}
