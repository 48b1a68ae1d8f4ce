package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spanwire.bpf.testing.Await;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The agent as a user runs it, in its own process: its stdout lines collected as they come, its
 * log in a file, SIGTERM to stop it.
 */
record AgentRun(Process process, List<String> lines, Path log) implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  static AgentRun start(Path log, String... args) {
    return start(log, Map.of(), args);
  }

  /** Starts the agent with extra environment variables and waits until it captures. */
  static AgentRun start(Path log, Map<String, String> env, String... args) {
    ProcessBuilder builder = AgentProcess.builder(List.of(), args);
    builder.environment().putAll(env);
    Process process = AgentProcess.start(builder, log);
    List<String> lines = new CopyOnWriteArrayList<>();
    Thread.ofPlatform().daemon().start(() -> {
      try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = reader.readLine()) != null) {
          lines.add(line);
        }
      } catch (IOException ignored) {
        // the agent ended
      }
    });
    AgentRun run = new AgentRun(process, lines, log);
    Await.until("the agent to capture", START_TIMEOUT, () -> run.logText().contains("capturing on") || !process.isAlive(),
        run::logText);
    assertThat(process.isAlive()).as("agent running; its log: %s", run.logText()).isTrue();
    return run;
  }

  String logText() {
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      return "";
    }
  }

  /** The stdout lines that are JSON events. */
  List<JsonNode> events() {
    return lines.stream().filter(l -> l.startsWith("{")).map(AgentRun::parse).toList();
  }

  /** JSON events of one process and source ({@code http-req}, {@code http-resp}, ...). */
  List<JsonNode> events(long pid, String source) {
    return events().stream()
        .filter(e -> e.at("/body/pid").asLong() == pid && e.at("/body/source").asText().equals(source))
        .toList();
  }

  static JsonNode parse(String line) {
    try {
      return JSON.readTree(line);
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + line, e);
    }
  }

  /** SIGTERM, then the exit code (143 is the JVM's answer to SIGTERM). */
  int stop() throws InterruptedException {
    process.destroy();
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("agent stops on SIGTERM").isTrue();
    return process.exitValue();
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
