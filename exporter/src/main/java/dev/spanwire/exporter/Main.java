package dev.spanwire.exporter;

import dev.spanwire.bpf.BpfException;
import dev.spanwire.bpf.Capabilities;
import dev.spanwire.bpf.BpfFeatures;
import com.typesafe.config.Config;
import dev.spanwire.exporter.config.BadConfigException;
import dev.spanwire.exporter.config.Settings;
import dev.spanwire.exporter.output.Output;
import dev.spanwire.exporter.CommandLine.Arity;
import dev.spanwire.exporter.CommandLine.Command;
import dev.spanwire.exporter.CommandLine.Flag;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The {@code spanwire} command: version, kernel and capability check, configuration, build, start,
 * wait. One shutdown hook stops the components in reverse order.
 */
public final class Main {
  private static final System.Logger LOG = System.getLogger(Main.class.getName());

  private static final Flag HELP = new Flag("-h", "--help", null, Arity.NONE, "Show this help message and exit.");
  private static final Flag VERSION = new Flag("-V", "--version", null, Arity.NONE, "Print version information and exit.");
  private static final Flag VERBOSE = new Flag("-v", "--verbose", null, Arity.NONE, "Log debug detail, libbpf's included.");

  private static final Command DOCTOR = new Command("doctor",
      "Checks that this machine can capture, one line per requirement with the fix.", List.of(HELP, VERSION), List.of(), List.of());
  private static final Command CONFIG = new Command("config",
      "Prints the effective configuration, each value with where it came from, and checks it "
          + "(exit code 2 when something is wrong). Takes the agent's flags.",
      flags(List.of(HELP, VERSION), ConfigOptions.FLAGS, List.of()), List.of(), List.of());
  static final Command SPANWIRE = new Command("spanwire",
      "Traces HTTP exchanges from the Linux kernel with eBPF: a live table or JSON events on stdout, "
          + "spans and metrics over OTLP.",
      flags(List.of(HELP, VERSION), ConfigOptions.FLAGS, List.of(VERBOSE)),
      List.of(DOCTOR, CONFIG),
      List.of("", "Environment: SPANWIRE_* (see reference.conf) and the standard OTEL_EXPORTER_OTLP_*, OTEL_SERVICE_NAME, ...",
          "Exit codes: 0 ok, 1 runtime failure, 2 bad flag or configuration, 3 missing privilege or kernel feature."));

  /** The environment the configuration reads (SPANWIRE_*, OTEL_*): the process's, or a test's. */
  private final Map<String, String> environment;
  private final PrintStream out;
  private final PrintStream err;

  Main(Map<String, String> environment, PrintStream out, PrintStream err) {
    this.environment = environment;
    this.out = out;
    this.err = err;
  }

  public static void main(String[] args) {
    System.exit(new Main(System.getenv(), System.out, System.err).run(args));
  }

  /** Parses {@code args} and runs what they ask for; returns the exit code. */
  int run(String... args) {
    CommandLine.Parsed parsed;
    try {
      parsed = CommandLine.parse(SPANWIRE, args);
    } catch (CommandLine.Error e) {
      err.println("spanwire: " + e.getMessage() + " (see spanwire --help)");
      return ExitCode.BAD_CONFIG;
    }
    Command command = parsed.command();
    if (parsed.has(HELP.longName())) {
      var reference = dev.spanwire.exporter.config.ConfigLayers.reference();
      out.print(CommandLine.help(command, command == SPANWIRE ? "spanwire" : "spanwire " + command.name(), helpWidth(),
          flag -> ConfigOptions.referenceDefault(reference, flag)));
      out.flush();
      return ExitCode.OK;
    }
    if (parsed.has(VERSION.longName())) {
      out.println("spanwire " + version());
      return ExitCode.OK;
    }
    try {
      if (command == DOCTOR) {
        Logging.configure(false);
        return new Doctor().run(out);
      }
      ConfigOptions options = new ConfigOptions(parsed);
      if (command == CONFIG) {
        Config config = options.load(environment);
        PrintWriter writer = new PrintWriter(out, true);
        EffectiveConfig.print(config, writer);
        Settings.from(config);
        return ExitCode.OK;
      }
      return capture(options, parsed.has(VERBOSE.longName()));
    } catch (BadConfigException bad) {
      err.println("spanwire: bad configuration: " + bad.getMessage());
      return ExitCode.BAD_CONFIG;
    } catch (RuntimeException e) {
      err.println("spanwire: " + e.getMessage());
      return ExitCode.RUNTIME_FAILURE;
    }
  }

  /** The help's width: {@code COLUMNS} when the environment has it (60..160), else 80. */
  private int helpWidth() {
    try {
      int columns = Integer.parseInt(environment.getOrDefault("COLUMNS", "80").strip());
      return Math.max(60, Math.min(columns, 160));
    } catch (NumberFormatException e) {
      return 80;
    }
  }

  @SafeVarargs
  private static List<Flag> flags(List<Flag>... groups) {
    List<Flag> all = new ArrayList<>();
    for (List<Flag> group : groups) {
      all.addAll(group);
    }
    return List.copyOf(all);
  }

  /** The agent: checks, configuration, start, and the wait until a signal or a failure. */
  private int capture(ConfigOptions options, boolean verbose) {
    // ahead of the JIT compilers until the agent starts its own threads (see StartPriority)
    try (StartPriority startPriority = StartPriority.raise()) {
      return capture(options, verbose, startPriority);
    }
  }

  private int capture(ConfigOptions options, boolean verbose, StartPriority startPriority) {
    // the native calls are bound and the capture object opened on the other core while this thread
    // checks and reads the configuration
    Thread.ofPlatform().name("spanwire-prepare").daemon().start(dev.spanwire.bpf.SocketCapture.preparation());
    Logging.configure(verbose);
    Capabilities privileges = Capabilities.current();
    if (!privileges.canCapture()) {
      err.println(
          "spanwire: capture needs root or CAP_BPF and CAP_PERFMON (missing "
              + privileges.missingForCapture()
              + "); run as root, or see 'spanwire doctor'");
      return ExitCode.NO_CAPABILITY;
    }
    var libbpfMissing = BpfFeatures.libbpfMissing();
    if (libbpfMissing.isPresent()) {
      err.println("spanwire: " + libbpfMissing.get());
      return ExitCode.NO_CAPABILITY;
    }
    Settings settings = Settings.from(options.load(environment));
    Output output = settings.output() == null ? Output.forStdout() : settings.output();
    if (settings.metrics().output() == dev.spanwire.exporter.output.MetricSettings.Output.JSON
        && (output == Output.TABLE || output == Output.RAW)) {
      throw new BadConfigException(dev.spanwire.exporter.config.Keys.METRICS_OUTPUT, "= json: stdout carries the " + output.name().toLowerCase(java.util.Locale.ROOT)
          + " (output.format auto chose it for the terminal); metric events need --output json or none");
    }

    Agent agent;
    try {
      agent = Agent.start(settings, output, version(), startPriority);
    } catch (BpfException e) {
      err.println("spanwire: " + (verbose ? e.getMessage() : e.summary()));
      return e.errno() == 1 ? ExitCode.NO_CAPABILITY : ExitCode.RUNTIME_FAILURE;
    }
    LOG.log(System.Logger.Level.INFO, "capturing on {0} tracepoints (backend {1}), output {2}, export {3}",
        agent.capture().attachments().size(), agent.capture().backend(), output, settings.export() == null ? "off" : settings.export().tracesEndpoint());

    CountDownLatch stopped = new CountDownLatch(1);
    AtomicBoolean stopping = new AtomicBoolean();
    Thread hook =
        new Thread(
            () -> {
              stopping.set(true);
              agent.close();
              // straight to stderr: java.util.logging resets its handlers in a shutdown hook of its own
              System.err.println("spanwire: stopped: " + agent.summary());
              stopped.countDown();
            },
            "spanwire-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      while (!stopped.await(1, TimeUnit.SECONDS)) {
        // a stop the shutdown hook made is not a failure
        if (!agent.isRunning() && !stopping.get()) {
          var failure = agent.capture().failure();
          err.println("spanwire: capture stopped: " + (failure == null ? "reader thread ended" : failure.summary()));
          return ExitCode.RUNTIME_FAILURE;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return ExitCode.OK;
  }

  /** The version from the jar's manifest, or "dev" in a build tree. */
  static String version() {
    String version = Main.class.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
  }
}
