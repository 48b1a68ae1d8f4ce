package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The command line without capture: help, the config command, refusals. Each run reads an
 * environment of the test's own (empty unless a test sets it), never the process's: a runner's
 * SPANWIRE_* or OTEL_* variables cannot change what these expect.
 */
class MainTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();
  private java.util.Map<String, String> environment = java.util.Map.of();

  private int run(String... args) {
    CommandLine commandLine = Main.commandLine(environment);
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    for (CommandLine sub : commandLine.getSubcommands().values()) {
      sub.setOut(new PrintWriter(out, true));
      sub.setErr(new PrintWriter(err, true));
    }
    return commandLine.execute(args);
  }

  @Test
  void helpListsEveryFlagWithItsDefault() {
    assertThat(run("--help")).isZero();
    String help = out.toString().replaceAll("\\s+", " "); // the usage wraps at the terminal's width
    for (String flag : ConfigOptions.KEYS.keySet()) {
      assertThat(help).as(flag).contains(flag);
    }
    assertThat(help).contains("--config=FILE", "--verbose", "--version", "doctor", "config")
        .contains("(default: 80,443,8080,8443)", "--capture-request[=BOOL]", "(default: true)", "--max-body-size=BYTES",
            "--min-latency=MS", "(default: appscope)", "(default: auto)", "(default: 4096)")
        .contains("Exit codes: 0 ok, 1 runtime failure, 2 bad flag or configuration, 3 missing privilege");
  }

  @Test
  void configPrintsEffectiveValuesWithTheirOrigins(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("a.conf"), "spanwire.capture.comm = \"^nginx$\"\n");
    assertThat(run("config", "--config", file.toString(), "--ports", "80,9000", "--min-latency", "25")).isZero();
    assertThat(out.toString())
        .containsPattern("spanwire\\.capture\\.ports +=\\s+\\[\"80\",\"9000\"\\] +# command line --ports")
        .containsPattern("spanwire\\.http\\.min-latency +=\\s+\"25ms\" +# command line --min-latency")
        .containsPattern("spanwire\\.capture\\.comm += \"\\^nginx\\$\" +# " + java.util.regex.Pattern.quote(file + ":1"))
        .containsPattern("spanwire\\.semconv += \"appscope\" +# reference\\.conf:\\d+")
        .containsPattern("spanwire\\.otlp\\.headers += \\{\\} +# reference\\.conf:\\d+");
  }

  @Test
  void environmentVariablesOverrideTheFileAndFlagsOverrideThem(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("a.conf"), "spanwire.otlp.endpoint = \"http://file:4317\"\n");
    environment = java.util.Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317", "SPANWIRE_PORTS", "81,82");
    assertThat(run("config", "--config", file.toString(), "--ports", "83")).isZero();
    assertThat(out.toString())
        .containsPattern("spanwire\\.otlp\\.endpoint += \"http://collector:4317\" +# environment variable OTEL_EXPORTER_OTLP_ENDPOINT")
        .containsPattern("spanwire\\.capture\\.ports +=\\s+\\[\"83\"\\] +# command line --ports");
  }

  @Test
  void badValuesAndUnknownFlagsExitWithTwoAndOneLine() {
    assertThat(run("config", "--capture-bytes", "99999")).isEqualTo(2);
    assertThat(err.toString().strip()).isEqualTo("spanwire: bad configuration: spanwire.capture.bytes-per-syscall = \"99999\" "
        + "(from command line --capture-bytes): expected a whole number 1..16384");
    err.getBuffer().setLength(0);
    assertThat(run("--no-such-flag")).isEqualTo(2);
    assertThat(err.toString()).startsWith("spanwire: Unknown option: '--no-such-flag'").hasLineCount(1);
  }

  @Test
  void metricEventsAndTheTableCannotShareStdout() {
    assertThat(run("config", "--output", "table", "--metrics-output", "json")).isEqualTo(2);
    assertThat(err.toString().strip()).isEqualTo("spanwire: bad configuration: spanwire.metrics.output = \"json\" "
        + "(from command line --metrics-output): expected none or statsd while output.format is table (metric events go "
        + "to stdout, with the JSON events: set output.format to json or none)");
    err.getBuffer().setLength(0);
    assertThat(run("config", "--output", "json", "--metrics-output", "statsd")).isZero();
    assertThat(run("config", "--metrics-output", "graphite")).isEqualTo(2);
    assertThat(err.toString()).contains("spanwire.metrics.output = \"graphite\"").contains("expected none, json or statsd");
  }
}
