package dev.spanwire.exporter;

import dev.spanwire.bpf.BpfException;
import dev.spanwire.bpf.Capabilities;
import dev.spanwire.bpf.BpfFeatures;
import dev.spanwire.bpf.CaptureConfig;
import dev.spanwire.exporter.output.Column;
import dev.spanwire.exporter.output.Output;
import dev.spanwire.exporter.pipeline.PipelineSettings;
import dev.spanwire.exporter.otel.ExportSettings;
import dev.spanwire.exporter.otel.OtlpEnvironment;
import dev.spanwire.semconv.NamingScheme;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
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
    description = "Traces HTTP exchanges from the Linux kernel with eBPF.",
    subcommands = {Main.DoctorCommand.class})
public final class Main implements Callable<Integer> {
  private static final System.Logger LOG = System.getLogger(Main.class.getName());

  @Option(
      names = "--pid",
      paramLabel = "PID",
      description = "Trace only this process (default: every process).")
  int pid;

  @Option(
      names = "--capture-bytes",
      paramLabel = "BYTES",
      description = "Payload bytes the kernel copies per syscall, 1..16384 (default: ${DEFAULT-VALUE}).")
  int captureBytes = CaptureConfig.DEFAULT_CAPTURE_BYTES;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      description = "table, json, none or raw (default: table on a terminal, json otherwise).")
  String output;

  @Option(
      names = "--otlp-endpoint",
      paramLabel = "URL",
      description = "Where spans and metrics go, or 'none' (default: OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4317).")
  String otlpEndpoint;

  @Option(
      names = "--otlp-protocol",
      paramLabel = "PROTOCOL",
      description = "grpc or http/protobuf (default: OTEL_EXPORTER_OTLP_PROTOCOL, else grpc).")
  String otlpProtocol;

  @Option(
      names = "--semconv",
      paramLabel = "SCHEME",
      description = "Attribute and metric names: appscope, otel-legacy or otel-stable (default: appscope).")
  String semconv = "appscope";

  @Option(names = {"-v", "--verbose"}, description = "Log debug detail, libbpf's included.")
  boolean verbose;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String... args) {
    CommandLine commandLine = new CommandLine(new Main());
    commandLine.setExecutionExceptionHandler(
        (e, cl, parseResult) -> {
          System.err.println("spanwire: " + e.getMessage());
          return ExitCode.RUNTIME_FAILURE;
        });
    return commandLine.execute(args);
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
    Agent.Options options;
    try {
      Output chosen = output == null ? Output.forStdout() : Output.of(output);
      CaptureConfig capture = CaptureConfig.defaults().withTargetPid(pid).withCaptureBytes(captureBytes);
      options = new Agent.Options(chosen, Column.defaults(), capture, PipelineSettings.defaults(), exportSettings());
    } catch (IllegalArgumentException e) {
      System.err.println("spanwire: " + e.getMessage());
      return ExitCode.BAD_CONFIG;
    }

    Agent agent;
    try {
      agent = Agent.start(options);
    } catch (BpfException e) {
      System.err.println("spanwire: " + (verbose ? e.getMessage() : e.summary()));
      return e.errno() == 1 ? ExitCode.NO_CAPABILITY : ExitCode.RUNTIME_FAILURE;
    }
    LOG.log(System.Logger.Level.INFO, "capturing on {0} tracepoints, output {1}",
        agent.capture().attachments().size(), options.output());

    CountDownLatch stopped = new CountDownLatch(1);
    java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
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

  /** Flags over the standard OTEL_* variables over the defaults; null when export is off. */
  private ExportSettings exportSettings() {
    ExportSettings settings =
        OtlpEnvironment.apply(ExportSettings.defaults().withScheme(NamingScheme.of(semconv)), System.getenv());
    if ("none".equals(otlpEndpoint)) {
      return null;
    }
    if (otlpEndpoint != null || otlpProtocol != null) {
      ExportSettings.Protocol protocol = otlpProtocol == null ? settings.protocol() : ExportSettings.Protocol.of(otlpProtocol);
      String endpoint = otlpEndpoint != null ? otlpEndpoint
          : protocol == ExportSettings.Protocol.GRPC ? ExportSettings.DEFAULT_GRPC_ENDPOINT : ExportSettings.DEFAULT_HTTP_ENDPOINT;
      settings = settings.withEndpoint(protocol, endpoint);
    }
    return settings;
  }

  /** The version from the jar's manifest, or "dev" in a build tree. */
  static String version() {
    String version = Main.class.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
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
