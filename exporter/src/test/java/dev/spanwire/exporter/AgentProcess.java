package dev.spanwire.exporter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The agent as its own process, with the test classpath, as a user would start it. */
final class AgentProcess {
  private AgentProcess() {}

  /** The command line {@code [prefix...] java ... dev.spanwire.exporter.Main args...}. */
  static List<String> command(List<String> prefix, String... args) {
    List<String> command = new ArrayList<>();
    // the agent dies with the test JVM: a killed test run must not leave an agent capturing
    // (and slowing) the host; setpriv execs, so the process keeps its pid
    command.addAll(List.of("setpriv", "--pdeathsig", "KILL"));
    if (!prefix.isEmpty() && prefix.get(0).equals("setpriv")) {
      command.addAll(prefix.subList(1, prefix.size()));
    } else {
      command.addAll(prefix);
    }
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.addAll(shippedJvmOptions());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Main.class.getName());
    command.addAll(List.of(args));
    // the kernel suite runs once per backend: the agent runs on the one the tests run on
    String backend = System.getProperty(dev.spanwire.bpf.CaptureConfig.BACKEND_PROPERTY);
    if (backend != null && args.length > 0 && !args[0].equals("config") && !args[0].equals("doctor")) {
      command.add("--capture-backend");
      command.add(backend);
    }
    return command;
  }

  /** The JVM flags the launcher and the image run the agent with (scripts/lib.sh), so tests see its heap. */
  static List<String> shippedJvmOptions() {
    try {
      String lib = java.nio.file.Files.readString(dev.spanwire.exporter.testing.Corpora.projectDir().resolve("scripts/lib.sh"));
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("SPANWIRE_JAVA_OPTS:=([^}]*)}").matcher(lib);
      if (!m.find()) {
        throw new IllegalStateException("no SPANWIRE_JAVA_OPTS default in scripts/lib.sh");
      }
      return List.of(m.group(1).trim().split("\\s+"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ProcessBuilder builder(List<String> prefix, String... args) {
    return new ProcessBuilder(command(prefix, args));
  }

  static Process start(ProcessBuilder builder, Path log) {
    try {
      return builder.redirectError(log.toFile()).start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
