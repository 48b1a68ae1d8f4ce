package dev.spanwire.exporter.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.exporter.deploy.LauncherScript.Run;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's ahead-of-time cache ({@code aot_options} in scripts/lib.sh), run as the launcher
 * runs it: the first run of a jar records the cache and writes it when it exits, with nothing on
 * stdout but the program's own output (the agent's stdout is its JSON or table); the next run maps
 * it; a new jar starts over; the subcommands that do not capture, {@code SPANWIRE_AOT=0} and JDKs
 * before 25 get no options. A small program stands in for the agent: the cache holds whatever jar
 * is run, and the test JVM's own classpath has directories, which a cache cannot hold.
 */
class LauncherAotCacheTest {
  private static final String JAVA_HOME = System.getProperty("java.home");

  private static Run bash(Map<String, String> env, String script, String... args) throws IOException, InterruptedException {
    return LauncherScript.run(null, env, List.of(), script, args);
  }

  /** A jar whose main prints one JSON line per argument and loads a few classes on the way. */
  private static Path jar(Path dir, String name) throws IOException {
    Path src = dir.resolve("src");
    Files.createDirectories(src.resolve("demo"));
    Files.writeString(src.resolve("demo/Main.java"), """
        package demo;
        public class Main {
          public static void main(String[] args) {
            java.util.Map<String, Integer> seen = new java.util.TreeMap<>();
            for (String a : args) {
              seen.merge(a, 1, Integer::sum);
              System.out.println("{\\"arg\\":\\"" + a + "\\"}");
            }
          }
        }
        """);
    Path classes = dir.resolve("classes");
    run("javac", "-d", classes.toString(), src.resolve("demo/Main.java").toString());
    Path jar = dir.resolve(name);
    run("jar", "--create", "--file", jar.toString(), "--main-class", "demo.Main", "-C", classes.toString(), ".");
    return jar;
  }

  private static void run(String tool, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
    int exit = ToolProvider.findFirst(tool).orElseThrow().run(print, print, args);
    assertThat(exit).as("%s: %s", tool, out).isZero();
  }

  /** The launcher's command line for {@code jar} ({@code exec_agent}): its JVM options, the AOT options, the jar. */
  private static Run launch(Path cache, Path jar, String... args) throws IOException, InterruptedException {
    return launchIn(null, cache, jar, args);
  }

  private static Run launchIn(Path workingDir, Path cache, Path jar, String... args)
      throws IOException, InterruptedException {
    return LauncherScript.run(workingDir, Map.of("SPANWIRE_CACHE_DIR", cache.toString()), List.of(),
        "jar=$1; shift; exec_agent \"" + JAVA_HOME + "\" \"$jar\" \"$@\"", prepend(jar.toString(), args));
  }

  /**
   * The JVM options are split into words and never expanded as file names: the compile memory
   * limit's method pattern {@code *.*} would match a file here named like the option, and the JVM
   * refuses the option the shell made of it ("MemLimit,.x,6m"). The first run of a jar and the
   * next (the cache mapped) both start.
   */
  @Test
  void theJvmOptionsReachTheJvmAsWrittenWhateverFilesTheDirectoryHolds(@TempDir Path dir) throws Exception {
    assertThat(bash(Map.of(), "printf '%s' \"$SPANWIRE_JAVA_OPTS\"").out()).contains("-XX:CompileCommand=MemLimit,*.*,6m");
    Path work = Files.createDirectories(dir.resolve("work"));
    Files.writeString(work.resolve("-XX:CompileCommand=MemLimit,.x,6m"), "");
    Path jar = jar(dir, "demo.jar");
    for (int run = 1; run <= 2; run++) {
      Run r = launchIn(work, dir.resolve("cache"), jar, "a");
      assertThat(r.exit()).as("run %d: %s", run, r.err()).isZero();
      assertThat(r.out()).isEqualTo("{\"arg\":\"a\"}\n");
      assertThat(r.err()).doesNotContain("MemLimit,.x").doesNotContain("error occurred during parsing");
    }
  }

  /**
   * A method the JVM options keep out of its callers' compilations exists: the JVM says nothing of
   * a {@code dontinline} pattern that matches no method, and a renamed ring buffer handler would
   * bring the pipeline back into the reader loop's compilation unseen.
   */
  @Test
  void theMethodsTheJvmOptionsKeepFromInliningExist() throws Exception {
    String options = bash(Map.of(), "printf '%s' \"$SPANWIRE_JAVA_OPTS\"").out();
    java.util.regex.Matcher named =
        java.util.regex.Pattern.compile("-XX:CompileCommand=dontinline,([\\w.$]+)::(\\w+)").matcher(options);
    List<String> checked = new ArrayList<>();
    while (named.find()) {
      Class<?> type = Class.forName(named.group(1));
      String method = named.group(2);
      assertThat(java.util.Arrays.stream(type.getDeclaredMethods()).map(java.lang.reflect.Method::getName))
          .as(named.group())
          .contains(method);
      checked.add(type.getSimpleName() + "::" + method);
    }
    assertThat(checked).containsExactly("RingBufferReader::handle");
  }

  private static String[] prepend(String first, String... rest) {
    String[] all = new String[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }

  private static List<Path> caches(Path dir) throws IOException {
    return files(dir, ".aot");
  }

  private static List<Path> files(Path dir, String suffix) throws IOException {
    try (var files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().endsWith(suffix)).toList();
    }
  }

  @Test
  void theFirstRunRecordsTheCacheWithACleanStdoutAndTheNextRunsMapIt(@TempDir Path dir) throws Exception {
    Runtime.Version version = Runtime.version();
    if (version.feature() < 25) {
      System.out.println("LauncherAotCacheTest: JDK " + version + " has no -XX:AOTCacheOutput; the launcher adds nothing");
      return;
    }
    Path cache = dir.resolve("cache");
    Path jar = jar(dir, "demo.jar");

    Run first = launch(cache, jar, "a", "b");
    assertThat(first.exit()).as(first.err()).isZero();
    assertThat(first.out()).as("stdout is the program's alone").isEqualTo("{\"arg\":\"a\"}\n{\"arg\":\"b\"}\n");
    assertThat(first.err()).contains("AOTCache creation is complete");
    // recorded into a file of the run's own, made the cache by the next launch
    assertThat(caches(cache)).isEmpty();
    assertThat(files(cache, ".recording")).hasSize(1);
    Run options = bash(Map.of("SPANWIRE_CACHE_DIR", cache.toString()), "aot_options \"$1\" \"$2\"", JAVA_HOME, jar.toString());
    List<Path> recorded = caches(cache);
    assertThat(recorded).hasSize(1);
    assertThat(files(cache, ".recording")).isEmpty();
    assertThat(options.out()).contains("-XX:AOTCache=" + recorded.getFirst()).doesNotContain("AOTCacheOutput");
    // JDK 25 would replay the recorded profiles, compiling at start what the recording run compiled
    // over its life; a later JDK gets no diagnostic flag it may not have
    if (Runtime.version().feature() == 25) {
      assertThat(options.out()).contains("-XX:+UnlockDiagnosticVMOptions -XX:-AOTReplayTraining");
    } else {
      assertThat(options.out()).doesNotContain("AOTReplayTraining");
    }

    // it maps: with AOTMode=on a cache that cannot be used is fatal
    Run second = bash(Map.of(), "exec \"" + JAVA_HOME + "/bin/java\" $SPANWIRE_JAVA_OPTS -XX:AOTMode=on -XX:AOTCache=\"$1\" --enable-native-access=ALL-UNNAMED -jar \"$2\" c",
        recorded.getFirst().toString(), jar.toString());
    assertThat(second.exit()).as(second.err()).isZero();
    assertThat(second.out()).isEqualTo("{\"arg\":\"c\"}\n");
    Run mapped = launch(cache, jar, "d");
    assertThat(mapped.out()).isEqualTo("{\"arg\":\"d\"}\n");
    assertThat(mapped.err()).doesNotContain("AOTCache creation");
    assertThat(caches(cache)).containsExactlyElementsOf(recorded);

    // another jar (a rebuild): recorded anew, the old cache removed
    Path rebuilt = jar(dir.resolve("rebuilt"), "demo.jar");
    Run again = launch(cache, rebuilt, "e");
    assertThat(again.out()).isEqualTo("{\"arg\":\"e\"}\n");
    assertThat(again.err()).contains("AOTCache creation is complete");
    assertThat(caches(cache)).isEmpty();
    assertThat(files(cache, ".recording")).hasSize(1);
  }

  @Test
  void aRecordingLeftUnfinishedOrStillRunningNeverBecomesTheCache(@TempDir Path dir) throws Exception {
    Path cache = Files.createDirectories(dir.resolve("cache"));
    Path jar = Files.writeString(dir.resolve("any.jar"), "x");
    Run options = bash(Map.of("SPANWIRE_CACHE_DIR", cache.toString()), "aot_options \"$1\" \"$2\"", JAVA_HOME, jar.toString());
    if (Runtime.version().feature() < 25) {
      assertThat(options.out()).isEmpty();
      return;
    }
    String output = options.out().lines().filter(l -> l.startsWith("-XX:AOTCacheOutput=")).findFirst().orElseThrow()
        .substring("-XX:AOTCacheOutput=".length());
    String key = Path.of(output).getFileName().toString().split("\\.")[0];
    // a run still going (this test's JVM: alive), and a run killed while the JVM wrote (its .config left)
    Path running = Files.writeString(cache.resolve(key + "." + ProcessHandle.current().pid() + ".recording"), "cache");
    Path killed = Files.writeString(cache.resolve(key + ".999999999.recording"), "half a cache");
    Files.writeString(cache.resolve(key + ".999999999.recording.config"), "config");
    Run next = bash(Map.of("SPANWIRE_CACHE_DIR", cache.toString()), "aot_options \"$1\" \"$2\"", JAVA_HOME, jar.toString());
    assertThat(next.out()).contains("-XX:AOTCacheOutput=").doesNotContain("-XX:AOTCache=");
    // profiles JDK 25 would not replay are not recorded; a later JDK gets no diagnostic flag
    if (Runtime.version().feature() == 25) {
      assertThat(next.out()).contains("-XX:+UnlockDiagnosticVMOptions -XX:-AOTRecordTraining");
    } else {
      assertThat(next.out()).doesNotContain("AOTRecordTraining");
    }
    assertThat(running).exists();
    assertThat(killed).doesNotExist();
    assertThat(cache.resolve(key + ".999999999.recording.config")).doesNotExist();
    assertThat(caches(cache)).isEmpty();
  }

  @Test
  void noOptionsForSubcommandsThatDoNotCaptureWhenTurnedOffOrBeforeJdk25(@TempDir Path dir) throws Exception {
    Path cache = dir.resolve("cache");
    Path jar = Files.writeString(dir.resolve("any.jar"), "x");
    for (String subcommand : List.of("doctor", "config", "--help", "-h", "--version", "-V")) {
      Run run = bash(Map.of("SPANWIRE_CACHE_DIR", cache.toString()), "aot_options \"$1\" \"$2\" \"$3\"", JAVA_HOME, jar.toString(), subcommand);
      assertThat(run.out()).as(subcommand).isEmpty();
    }
    Run off = bash(Map.of("SPANWIRE_CACHE_DIR", cache.toString(), "SPANWIRE_AOT", "0"), "aot_options \"$1\" \"$2\"", JAVA_HOME, jar.toString());
    assertThat(off.out()).isEmpty();
    // a JDK 24 (its release file; bin/java and bin/javac present)
    Path jdk24 = dir.resolve("jdk24");
    Files.createDirectories(jdk24.resolve("bin"));
    for (String tool : List.of("java", "javac")) {
      Path exe = Files.writeString(jdk24.resolve("bin").resolve(tool), "#!/bin/sh\nexit 1\n");
      assertThat(exe.toFile().setExecutable(true)).isTrue();
    }
    Files.writeString(jdk24.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"24.0.2\"\n");
    Run old = bash(Map.of("SPANWIRE_CACHE_DIR", cache.toString()), "jdk_feature \"$1\"; aot_options \"$1\" \"$2\"", jdk24.toString(), jar.toString());
    assertThat(old.out()).isEqualTo("24\n");
    // an agent run on a JDK 25+ gets them
    if (Runtime.version().feature() < 25) {
      return;
    }
    Run agent = bash(Map.of("SPANWIRE_CACHE_DIR", cache.toString()), "aot_options \"$1\" \"$2\" --output json", JAVA_HOME, jar.toString());
    assertThat(agent.out()).contains("-XX:AOTCacheOutput=" + cache.resolve("spanwire-")).contains(".recording")
        .contains("-XX:+DisplayVMOutputToStderr");
  }
}
