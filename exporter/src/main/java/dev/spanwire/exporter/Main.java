package dev.spanwire.exporter;

import dev.spanwire.bpf.BpfException;
import dev.spanwire.bpf.Capabilities;
import dev.spanwire.bpf.BpfFeatures;
import com.typesafe.config.Config;
import dev.spanwire.exporter.config.BadConfigException;
import dev.spanwire.exporter.config.Settings;
import dev.spanwire.exporter.output.Output;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The {@code spanwire} command: version, kernel and capability check, configuration, build, start,
 * wait. One shutdown hook stops the components in reverse order.
 */
@Command(
    name = "spanwire",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description = "Traces HTTP exchanges from the Linux kernel with eBPF: a live table or JSON events on stdout, "
        + "spans and metrics over OTLP.",
    footer = {"", "Environment: SPANWIRE_* (see reference.conf) and the standard OTEL_EXPORTER_OTLP_*, OTEL_SERVICE_NAME, ...",
        "Exit codes: 0 ok, 1 runtime failure, 2 bad flag or configuration, 3 missing privilege or kernel feature."},
    subcommands = {Main.DoctorCommand.class, Main.ConfigCommand.class})
public final class Main implements Callable<Integer> {
  private static final System.Logger LOG = System.getLogger(Main.class.getName());

  @Mixin ConfigOptions options;

  @Option(names = {"-v", "--verbose"}, order = 20, description = "Log debug detail, libbpf's included.")
  boolean verbose;

  /** The environment the configuration reads (SPANWIRE_*, OTEL_*): the process's, or a test's. */
  private final Map<String, String> environment;

  Main(Map<String, String> environment) {
    this.environment = environment;
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String... args) {
    return commandLine().execute(args);
  }

  /** The command with its subcommands, defaults from reference.conf and error handling. */
  static CommandLine commandLine() {
    return commandLine(System.getenv());
  }

  /** The same reading its configuration from {@code environment} instead of the process's. */
  static CommandLine commandLine(Map<String, String> environment) {
    CommandLine.IFactory factory = new CommandLine.IFactory() {
      @Override
      public <K> K create(Class<K> type) throws Exception {
        return type == ConfigCommand.class ? type.cast(new ConfigCommand(environment)) : CommandLine.defaultFactory().create(type);
      }
    };
    CommandLine commandLine = new CommandLine(new Main(environment), factory);
    commandLine.setDefaultValueProvider(new ConfigOptions.ReferenceDefaults());
    commandLine.setExecutionExceptionHandler(
        (e, cl, parseResult) -> {
          if (e instanceof BadConfigException bad) {
            cl.getErr().println("spanwire: bad configuration: " + bad.getMessage());
            return ExitCode.BAD_CONFIG;
          }
          cl.getErr().println("spanwire: " + e.getMessage());
          return ExitCode.RUNTIME_FAILURE;
        });
    commandLine.setParameterExceptionHandler(
        (e, arguments) -> {
          e.getCommandLine().getErr().println("spanwire: " + e.getMessage() + " (see spanwire --help)");
          return ExitCode.BAD_CONFIG;
        });
    return commandLine;
  }

  @Override
  public Integer call() {
    Logging.configure(verbose);
    Capabilities privileges = Capabilities.current();
    if (!privileges.canCapture()) {
      System.err.println(
          "spanwire: capture needs root or CAP_BPF and CAP_PERFMON (missing "
              + privileges.missingForCapture()
              + "); run as root, or see 'spanwire doctor'");
      return ExitCode.NO_CAPABILITY;
    }
    var libbpfMissing = BpfFeatures.libbpfMissing();
    if (libbpfMissing.isPresent()) {
      System.err.println("spanwire: " + libbpfMissing.get());
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
      agent = Agent.start(settings, output, version());
    } catch (BpfException e) {
      System.err.println("spanwire: " + (verbose ? e.getMessage() : e.summary()));
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
          System.err.println("spanwire: capture stopped: " + (failure == null ? "reader thread ended" : failure.summary()));
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

  @Command(
      name = "config",
      mixinStandardHelpOptions = true,
      sortOptions = false,
      usageHelpAutoWidth = true,
      description = "Prints the effective configuration, each value with where it came from, and checks it "
          + "(exit code 2 when something is wrong). Takes the agent's flags.")
  static final class ConfigCommand implements Callable<Integer> {
    @Mixin ConfigOptions options;

    private final Map<String, String> environment;

    ConfigCommand(Map<String, String> environment) {
      this.environment = environment;
    }

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Config config = options.load(environment);
      EffectiveConfig.print(config, spec.commandLine().getOut());
      Settings.from(config);
      return ExitCode.OK;
    }
  }

  @Command(
      name = "doctor",
      mixinStandardHelpOptions = true,
      description = "Checks that this machine can capture, one line per requirement with the fix.")
  static final class DoctorCommand implements Callable<Integer> {
    @Override
    public Integer call() {
      Logging.configure(false);
      return new Doctor().run(System.out);
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"spanwire " + version()};
    }
  }
}
