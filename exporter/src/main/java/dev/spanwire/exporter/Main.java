package dev.spanwire.exporter;

import dev.spanwire.bpf.BpfException;
import dev.spanwire.bpf.Capabilities;
import dev.spanwire.bpf.BpfFeatures;
import dev.spanwire.bpf.CaptureConfig;
import dev.spanwire.exporter.output.Column;
import dev.spanwire.exporter.output.Output;
import dev.spanwire.exporter.pipeline.PipelineSettings;
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
      options = new Agent.Options(chosen, Column.defaults(), capture, PipelineSettings.defaults());
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
    Thread hook =
        new Thread(
            () -> {
              agent.close();
              // straight to stderr: java.util.logging resets its handlers in a shutdown hook of its own
              System.err.println("spanwire: stopped: " + agent.summary());
              stopped.countDown();
            },
            "spanwire-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      while (!stopped.await(1, TimeUnit.SECONDS)) {
        if (!agent.isRunning()) {
          System.err.println("spanwire: capture stopped: " + agent.capture().failure().summary());
          return ExitCode.RUNTIME_FAILURE;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return ExitCode.OK;
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
      String version = Main.class.getPackage().getImplementationVersion();
      return new String[] {"spanwire " + (version == null ? "dev" : version)};
    }
  }
}
