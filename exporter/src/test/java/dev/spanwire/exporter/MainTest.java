package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line without capture: help, the config command, refusals. Each run reads an
 * environment of the test's own (empty unless a test sets it), never the process's: a runner's
 * SPANWIRE_* or OTEL_* variables cannot change what these expect.
 */
class MainTest {
  private final Captured out = new Captured();
  private final Captured err = new Captured();
  private java.util.Map<String, String> environment = java.util.Map.of();

  /** What the command printed on one stream. */
  private static final class Captured {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final PrintStream stream = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    @Override
    public String toString() {
      return bytes.toString(StandardCharsets.UTF_8);
    }

    void clear() {
      bytes.reset();
    }
  }

  private int run(String... args) {
    return new Main(environment, out.stream, err.stream).run(args);
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
    err.clear();
    assertThat(run("--no-such-flag")).isEqualTo(2);
    assertThat(err.toString()).startsWith("spanwire: Unknown option: '--no-such-flag'").hasLineCount(1);
  }

  @Test
  void metricEventsAndTheTableCannotShareStdout() {
    assertThat(run("config", "--output", "table", "--metrics-output", "json")).isEqualTo(2);
    assertThat(err.toString().strip()).isEqualTo("spanwire: bad configuration: spanwire.metrics.output = \"json\" "
        + "(from command line --metrics-output): expected none or statsd while output.format is table (metric events go "
        + "to stdout, with the JSON events: set output.format to json or none)");
    err.clear();
    assertThat(run("config", "--output", "json", "--metrics-output", "statsd")).isZero();
    assertThat(run("config", "--metrics-output", "graphite")).isEqualTo(2);
    assertThat(err.toString()).contains("spanwire.metrics.output = \"graphite\"").contains("expected none, json or statsd");
  }

  @Test
  void everyFlagFormSetsItsKey() {
    assertThat(run("config", "-ojson", "--pid=7", "--comm", "nginx", "--capture-request", "--capture-response", "false",
        "--detect=true", "--min-latency", "5")).isZero();
    assertThat(out.toString())
        .containsPattern("spanwire\\.output\\.format += \"json\" +# command line --output")
        .containsPattern("spanwire\\.capture\\.pid += \"7\" +# command line --pid")
        .containsPattern("spanwire\\.capture\\.comm += \"nginx\" +# command line --comm")
        .containsPattern("spanwire\\.http\\.capture-request += \"true\" +# command line --capture-request")
        .containsPattern("spanwire\\.http\\.capture-response += \"false\" +# command line --capture-response")
        .containsPattern("spanwire\\.protocol\\.detect += \"true\" +# command line --detect")
        .containsPattern("spanwire\\.http\\.min-latency += \"5ms\" +# command line --min-latency");
    out.clear();
    assertThat(run("config", "-o=none", "--output-not-a-flag-prefix-check", "x")).isEqualTo(2);
    assertThat(err.toString()).isEqualTo("spanwire: Unknown option: '--output-not-a-flag-prefix-check' (see spanwire --help)\n");
    err.clear();
    assertThat(run("config", "-o", "none")).isZero();
    assertThat(out.toString()).containsPattern("spanwire\\.output\\.format += \"none\" +# command line --output");
  }

  @Test
  void malformedCommandLinesExitWithTwoAndSayWhatIsWrong() {
    String[][] cases = {
        {"--pid", "spanwire: Missing required parameter for option '--pid' (PID) (see spanwire --help)"},
        {"--pid --comm x", "spanwire: Missing required parameter for option '--pid' (PID) (see spanwire --help)"},
        {"--pid 1 --pid 2", "spanwire: option '--pid' (PID) should be specified only once (see spanwire --help)"},
        {"foo", "spanwire: Unmatched argument at index 0: 'foo' (see spanwire --help)"},
        {"config doctor", "spanwire: Unmatched argument at index 1: 'doctor' (see spanwire --help)"},
        {"--pid 1 doctor", "spanwire: Unmatched argument at index 2: 'doctor' (see spanwire --help)"},
        {"--capture-request maybe", "spanwire: Unmatched argument at index 1: 'maybe' (see spanwire --help)"},
        {"-hx", "spanwire: Unknown option: '-hx' (see spanwire --help)"},
        {"--help=yes", "spanwire: option '--help' takes no value: '--help=yes' (see spanwire --help)"},
        {"doctor --pid 1", "spanwire: Unknown option: '--pid' (see spanwire --help)"},
        {"config -v", "spanwire: Unknown option: '-v' (see spanwire --help)"},
    };
    for (String[] c : cases) {
      err.clear();
      assertThat(run(c[0].split(" "))).as(c[0]).isEqualTo(2);
      assertThat(err.toString()).as(c[0]).isEqualTo(c[1] + "\n");
      assertThat(out.toString()).as(c[0]).isEmpty();
    }
  }

  @Test
  void versionAndTheSubcommandsHelp() {
    assertThat(run("-V")).isZero();
    assertThat(run("config", "--version")).isZero();
    assertThat(out.toString()).isEqualTo("spanwire dev\nspanwire dev\n"); // no jar manifest in a test
    out.clear();
    assertThat(run("-vh")).isZero(); // a cluster of switches
    assertThat(out.toString()).startsWith("Usage: spanwire [OPTIONS] [COMMAND]\n");
    out.clear();
    assertThat(run("doctor", "--help")).isZero();
    assertThat(out.toString()).isEqualTo("""
        Usage: spanwire doctor [OPTIONS]
        Checks that this machine can capture, one line per requirement with the fix.
          -h, --help     Show this help message and exit.
          -V, --version  Print version information and exit.
        """);
    out.clear();
    assertThat(run("config", "-h")).isZero();
    assertThat(out.toString()).startsWith("Usage: spanwire config [OPTIONS]\n").contains("--otlp-protocol=PROTOCOL")
        .doesNotContain("--verbose").doesNotContain("Commands:");
    assertThat(err.toString()).isEmpty();
  }

  @Test
  void helpWrapsAtTheTerminalWidthAndBreaksLongListsAfterACommas() {
    for (int columns : new int[] {60, 80, 120}) {
      out.clear();
      environment = java.util.Map.of("COLUMNS", Integer.toString(columns));
      assertThat(run("--help")).isZero();
      assertThat(out.toString().lines()).as("width " + columns).allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(columns));
      // the table's default columns are one word of 66 characters: broken after a comma, never inside a name
      String list = String.join(",(\\n +)?", "timestamp", "comm", "pid", "src", "dst", "proto", "method", "host", "path", "status", "latency");
      assertThat(out.toString()).as("width " + columns).containsPattern("\\(default:( |\\n +)" + list + ";");
    }
  }
}
