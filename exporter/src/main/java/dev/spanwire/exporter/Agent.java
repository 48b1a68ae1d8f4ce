package dev.spanwire.exporter;

import dev.spanwire.bpf.CaptureStats;
import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.SocketCapture;
import dev.spanwire.exporter.config.Settings;
import dev.spanwire.exporter.connection.ConnectionTracker;
import dev.spanwire.exporter.connection.Warmup;
import dev.spanwire.exporter.counters.Counter;
import dev.spanwire.exporter.counters.Counters;
import dev.spanwire.exporter.exchange.ExchangeFields;
import dev.spanwire.exporter.exchange.Field;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.FanOutSink;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.filter.ExchangeFilter;
import dev.spanwire.exporter.filter.FilterSettings;
import dev.spanwire.exporter.filter.WatchRule;
import dev.spanwire.exporter.otel.ExportSettings;
import dev.spanwire.exporter.otel.OtelSink;
import dev.spanwire.exporter.output.AsyncSink;
import dev.spanwire.exporter.output.JsonEventSink;
import dev.spanwire.exporter.output.MetricSettings;
import dev.spanwire.exporter.output.MetricsSink;
import dev.spanwire.exporter.output.Output;
import dev.spanwire.exporter.output.RawEventPrinter;
import dev.spanwire.exporter.output.TableSink;
import dev.spanwire.semconv.AgentMetric;
import dev.spanwire.semconv.NamingScheme;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;

/**
 * The running agent, wired in the order data flows backwards: the counter registry first, the
 * capture loaded, the sinks (table or JSON events, spans, metrics), the filters, the span identity
 * stage, the connection stage, and only then the capture started. It stops in reverse: capture
 * (draining the ring buffer), what connections have under way, the sinks.
 *
 * <pre>capture -> connections -> protocol sessions (span ids at pairing) -> metrics | filter -> outputs, spans</pre>
 */
final class Agent implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Agent.class.getName());
  /** How often the kernel-to-wall-clock offset is measured again. */
  static final long CLOCK_RECALIBRATION_SECONDS = 10;
  /** How often the kernel's entries of exited processes are looked for. */
  static final long KERNEL_SWEEP_SECONDS = 60;
  /** How often every process is looked at for TLS libraries (dlopen, containers started later). */
  static final int TLS_SCAN_SECONDS = 5;

  private final Counters counters;
  private final SocketCapture capture;
  private final ConnectionTracker connections;
  private final ExchangeSink sinks;
  private final OtelSink otel;
  private final Writer stdout;
  private final ScheduledExecutorService housekeeping;
  private boolean closed;

  private Agent(
      Counters counters, SocketCapture capture, ConnectionTracker connections, ExchangeSink sinks, OtelSink otel,
      Writer stdout) {
    this.counters = counters;
    this.capture = capture;
    this.connections = connections;
    this.sinks = sinks;
    this.otel = otel;
    this.stdout = stdout;
    this.housekeeping = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().name("spanwire-housekeeping").daemon().factory());
  }

  /**
   * Starts capture with {@code settings}, writing {@code output} to stdout; {@code version} names
   * the agent. The calling thread's {@code priority} is given back before the agent's own threads
   * start.
   */
  static Agent start(Settings settings, Output output, String version, StartPriority priority) {
    // the first real events must not wait for class loading and compilation (see Warmup): the
    // pipeline warms up on another core while the kernel verifies the programs, at the agent's own
    // priority (see StartPriority)
    Thread warmup = Thread.ofPlatform().name("spanwire-warmup").daemon().start(priority.atNormal(Agent::warmUp));
    // so are the OTLP exporters made (the SDK's classes are half a second of a start)
    ExportSettings export = output == Output.RAW ? null : settings.export();
    FutureTask<OtelSink.Exporters> exporters =
        export == null ? null : new FutureTask<>(() -> OtelSink.Exporters.of(export));
    if (exporters != null) {
      // at the agent's own priority: the exporters may start threads that live on
      Thread.ofPlatform().name("spanwire-otlp-setup").daemon().start(priority.atNormal(exporters));
    }
    Counters counters = new Counters();
    SocketCapture capture = null;
    try {
      KernelClock clock = KernelClock.calibrate();
      capture = SocketCapture.load(settings.capture());
      registerCapture(counters, capture);
      warmup.join();
      priority.close();
      return wire(settings, output, version, counters, clock, capture, exporters == null ? null : made(exporters));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      close(capture, exporters);
      throw new IllegalStateException("interrupted while starting", e);
    } catch (RuntimeException | Error e) {
      close(capture, exporters);
      throw e;
    }
  }

  /** The exporters made on their thread; what failed there fails here, as it would have inline. */
  private static OtelSink.Exporters made(FutureTask<OtelSink.Exporters> exporters)
      throws InterruptedException {
    try {
      return exporters.get();
    } catch (ExecutionException e) {
      switch (e.getCause()) {
        case RuntimeException r -> throw r;
        case Error r -> throw r;
        default -> throw new IllegalStateException(e.getCause());
      }
    }
  }

  /** A start that failed gives back the capture and the exporters made for it (once made). */
  private static void close(SocketCapture capture, FutureTask<OtelSink.Exporters> exporters) {
    if (capture != null) {
      capture.close();
    }
    if (exporters != null) {
      exporters.cancel(false);
      if (exporters.state() == Future.State.SUCCESS) {
        exporters.resultNow().shutdown();
      }
    }
  }

  private static Agent wire(Settings settings, Output output, String version, Counters counters, KernelClock clock,
      SocketCapture capture, OtelSink.Exporters exporters) {
    Writer stdout =
        new BufferedWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8), 1 << 16);
    if (output == Output.RAW) {
      capture.start(new RawEventPrinter(new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8), clock));
      return new Agent(counters, capture, null, ExchangeSink.NONE, null, stdout).housekeeping(clock);
    }
    FilterSettings filters = settings.filter();
    WatchRule watch = filters.watch();
    ExportSettings export = settings.export();
    OtelSink otel = exporters == null ? null : OtelSink.start(export, exporters, clock, hostname(), version, counters, watch);
    List<AsyncSink> outputs = outputs(output, settings, clock, stdout);
    ExchangeSink metricsOut = metricsOutput(settings.metrics(), clock, stdout, counters);
    counters.register(AgentMetric.OUTPUT_DROPPED, () -> outputs.stream().mapToLong(AsyncSink::dropped).sum());
    List<ExchangeSink> filtered = new ArrayList<>(outputs);
    if (otel != null) {
      filtered.add(otel.spans());
    }
    // metrics see every exchange; the other sinks, those the filters keep, as the filters shape them
    ExchangeFilter filter = new ExchangeFilter(new FanOutSink(filtered), filters);
    counters.register(AgentMetric.BELOW_MIN_LATENCY, filter::belowMinLatency);
    List<ExchangeSink> everyExchange = new ArrayList<>();
    if (otel != null) {
      everyExchange.add(otel.metrics());
    }
    if (metricsOut != null) {
      everyExchange.add(metricsOut);
    }
    everyExchange.add(filter);
    ExchangeSink sinks = everyExchange.size() == 1 ? filter : new FanOutSink(everyExchange);
    try {
      ConnectionTracker connections =
          new ConnectionTracker(sinks, settings.pipeline(), capture.connections(), counters);
      capture.start(new TlsDiscovery(connections, capture));
      return new Agent(counters, capture, connections, sinks, otel, stdout).housekeeping(clock)
          .health(settings.healthFile());
    } catch (RuntimeException e) {
      sinks.close();
      if (otel != null) {
        otel.shutdown();
      }
      throw e;
    }
  }

  /** The table or the JSON events on stdout, each behind a queue of its own; none for other outputs. */
  private static List<AsyncSink> outputs(Output output, Settings settings, KernelClock clock, Writer stdout) {
    FilterSettings filters = settings.filter();
    WatchRule watch = filters.watch();
    return switch (output) {
      case TABLE -> {
        TableSink table = new TableSink(stdout, settings.columns(), clock);
        table.writeHeader();
        table.flush();
        yield List.of(new AsyncSink("table", table, AsyncSink.DEFAULT_CAPACITY));
      }
      case JSON -> {
        ExchangeFields fields = new ExchangeFields(NamingScheme.APPSCOPE, watch == null ? List.of() : watch.headers());
        JsonEventSink.EventFilter events = new JsonEventSink.EventFilter() {
          @Override
          public boolean emits(String source) {
            return watch != null && watch.emits(source)
                && !(source.equals(JsonEventSink.RESPONSE_SOURCE) && !filters.captureResponse());
          }

          @Override
          public List<Field> apply(String source, List<Field> data) {
            return emits(source) ? watch.keep(data) : null;
          }
        };
        yield List.of(new AsyncSink("json", new JsonEventSink(stdout, clock, hostname(), fields, events, settings.eventTraceIds()), AsyncSink.DEFAULT_CAPACITY));
      }
      default -> List.of();
    };
  }

  /**
   * AppScope's metric output on a thread of its own (it aggregates every exchange): metric events
   * on stdout beside the JSON events (each line one append, so lines never mix), or StatsD over
   * UDP; null when off.
   */
  private static ExchangeSink metricsOutput(MetricSettings settings, KernelClock clock, Writer stdout, Counters counters) {
    Counter writerDrops = new Counter();
    MetricsSink.Writer writer = switch (settings.output()) {
      case NONE -> null;
      case JSON -> MetricsSink.jsonWriter(stdout, hostname());
      case STATSD -> MetricsSink.statsdWriter(settings.statsd(), writerDrops);
    };
    if (writer == null) {
      return null;
    }
    ProcessInfo self = new ProcessInfo((int) ProcessHandle.current().pid(), "spanwire", "java", "spanwire", "spanwire",
        null, -1, -1);
    MetricsSink sink = new MetricsSink(settings, writer, clock, KernelClock::monotonicNanos, counters, self, writerDrops);
    if (!settings.perExchange()) {
      // aggregated on the pipeline thread: a slow stdout delays an interval's output, loses no exchange
      counters.register(AgentMetric.METRICS_DROPPED, () -> writerDrops.get() + sink.seriesDropped());
      return sink.startTicking();
    }
    AsyncSink async = new AsyncSink("metrics", sink, AsyncSink.DEFAULT_CAPACITY);
    counters.register(AgentMetric.METRICS_DROPPED, () -> writerDrops.get() + sink.seriesDropped() + async.dropped());
    return async;
  }

  /** The capture's counters, read from the kernel (and the reader) when asked. */
  private static void registerCapture(Counters counters, SocketCapture capture) {
    Map<AgentMetric, ToLongFunction<CaptureStats>> kernel = Map.ofEntries(
        Map.entry(AgentMetric.EVENTS_RECEIVED, CaptureStats::records),
        Map.entry(AgentMetric.EVENTS_LOST, CaptureStats::eventsLost),
        Map.entry(AgentMetric.BYTES_LOST, CaptureStats::bytesLost),
        Map.entry(AgentMetric.CONNECTIONS_UNTRACKED, CaptureStats::connectionsUntracked),
        Map.entry(AgentMetric.STALE_CONNECTIONS, CaptureStats::staleConnections),
        Map.entry(AgentMetric.STASH_FULL, CaptureStats::stashFull),
        Map.entry(AgentMetric.SIZE_ONLY, CaptureStats::sizeOnly),
        Map.entry(AgentMetric.PRESSURE_CUT, CaptureStats::pressureCut),
        Map.entry(AgentMetric.BYTES_NOT_COPIED, CaptureStats::skippedBytes),
        Map.entry(AgentMetric.HTTP2_DATA_NOT_COPIED, CaptureStats::http2DataUncopied),
        Map.entry(AgentMetric.HTTP2_WALKS_LOST, CaptureStats::http2WalksLost),
        Map.entry(AgentMetric.TLS_BYTES, CaptureStats::tlsBytes),
        Map.entry(AgentMetric.TLS_UNATTRIBUTED, CaptureStats::tlsUnattributed),
        Map.entry(AgentMetric.TLS_CALLS, CaptureStats::tlsCalls),
        Map.entry(AgentMetric.READER_CATCH_UPS, CaptureStats::catchUps),
        Map.entry(AgentMetric.MALFORMED, CaptureStats::malformed),
        Map.entry(AgentMetric.HANDLER_FAILURES, CaptureStats::handlerFailures));
    kernel.forEach((metric, f) -> counters.register(metric, () -> f.applyAsLong(capture.stats())));
  }

  /** How often the health file is written, and how long the pipeline may go without a batch and count as alive. */
  static final int HEALTH_SECONDS = 10;
  private static final long STALLED_NANOS = TimeUnit.SECONDS.toNanos(30);
  private java.nio.file.Path healthFile;

  /**
   * Every {@link #HEALTH_SECONDS}: the time into {@code file} while capture works (the reader
   * runs and the pipeline finished a batch within 30 s — it does at least every poll interval);
   * nothing when it does not, so a probe reading the file's time sees the agent stuck.
   */
  private Agent health(java.nio.file.Path file) {
    if (file == null) {
      return this;
    }
    healthFile = file;
    Runnable beat = () -> {
      if (!capture.isRunning() || (connections != null && !connections.batchedWithin(STALLED_NANOS))) {
        return;
      }
      try {
        java.nio.file.Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(temp, Long.toString(System.currentTimeMillis() / 1000) + "\n");
        Files.move(temp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      } catch (java.io.IOException | RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "cannot write the health file {0}: {1}", file, e.getMessage());
      }
    };
    beat.run();
    housekeeping.scheduleAtFixedRate(beat, HEALTH_SECONDS, HEALTH_SECONDS, TimeUnit.SECONDS);
    return this;
  }

  /** Once a minute: what was lost; every 10 s: the clock offset; every minute: the kernel table sweep. */
  private Agent housekeeping(KernelClock clock) {
    housekeeping.scheduleAtFixedRate(new DropReport(), 1, 1, TimeUnit.MINUTES);
    housekeeping.scheduleAtFixedRate(() -> {
      long moved = clock.recalibrate();
      if (Math.abs(moved) > 100_000_000L) {
        LOG.log(System.Logger.Level.INFO, "the wall clock moved {0} ms against the kernel''s; times follow it", moved / 1_000_000);
      }
    }, CLOCK_RECALIBRATION_SECONDS, CLOCK_RECALIBRATION_SECONDS, TimeUnit.SECONDS);
    housekeeping.scheduleAtFixedRate(() -> {
      try {
        capture.sweepExitedProcesses(pid -> Files.exists(Path.of("/proc", Integer.toString(pid))));
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "sweeping the kernel connection table failed: {0}", e.getMessage());
      }
    }, KERNEL_SWEEP_SECONDS, KERNEL_SWEEP_SECONDS, TimeUnit.SECONDS);
    return this;
  }

  /**
   * Passes every event on, and looks for TLS libraries the capture has not hooked: in each process
   * that runs exec (node's executable carries OpenSSL) at once, in every process every {@link
   * #TLS_SCAN_SECONDS} (dlopen, containers). The looking happens on a daemon thread of its own.
   */
  private static final class TlsDiscovery implements dev.spanwire.bpf.SocketEventHandler {
    private final dev.spanwire.bpf.SocketEventHandler next;
    private final SocketCapture capture;
    private final java.util.concurrent.ScheduledExecutorService scans = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().name("spanwire-tls-discovery").daemon().factory());

    TlsDiscovery(dev.spanwire.bpf.SocketEventHandler next, SocketCapture capture) {
      this.next = next;
      this.capture = capture;
      scans.scheduleWithFixedDelay(() -> capture.tls().ifPresent(tls -> scan(tls::scan)),
          TLS_SCAN_SECONDS, TLS_SCAN_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    public void onEvent(dev.spanwire.bpf.SocketEvent event) {
      if (event instanceof dev.spanwire.bpf.ProcessExecuted executed) {
        capture.tls().ifPresent(tls -> scans.execute(() -> scan(() -> tls.scanProcess(executed.pid()))));
      }
      next.onEvent(event);
    }

    @Override
    public void afterBatch() {
      next.afterBatch();
    }

    private static void scan(Runnable scan) {
      try {
        scan.run();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "looking for TLS libraries failed: {0}", e.getMessage());
      }
    }
  }

  /** Made-up exchanges through a pipeline and the fields outputs build (see {@link Warmup}). */
  private static void warmUp() {
    dev.spanwire.exporter.exchange.ExchangeFields fields =
        new dev.spanwire.exporter.exchange.ExchangeFields(dev.spanwire.semconv.NamingScheme.APPSCOPE, List.of());
    Warmup.run(dev.spanwire.exporter.connection.PipelineSettings.defaults(), new ExchangeSink() {
      @Override
      public void onRequest(dev.spanwire.exporter.exchange.ConnectionInfo connection, String version,
          dev.spanwire.exporter.exchange.Request request) {
        fields.request(connection, version, request);
      }

      @Override
      public boolean takesRequests() {
        return true;
      }

      @Override
      public void onExchange(dev.spanwire.exporter.exchange.Exchange exchange) {
        fields.exchange(exchange);
      }
    });
  }

  /** Logs once a minute, in one line, what was lost in that minute, if anything was. */
  private final class DropReport implements Runnable {
    private Map<AgentMetric, Long> before = counters.losses();

    @Override
    public void run() {
      Map<AgentMetric, Long> now = counters.losses();
      String grown = Counters.grown(before, now);
      if (!grown.isEmpty()) {
        LOG.log(System.Logger.Level.WARNING, "lost in the last minute: {0}", grown);
      }
      before = now;
    }
  }

  /** The machine's name, as AppScope puts it in events. */
  static String hostname() {
    try {
      return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
    } catch (java.io.IOException e) {
      return System.getenv().getOrDefault("HOSTNAME", "localhost");
    }
  }

  boolean isRunning() {
    return capture.isRunning();
  }

  SocketCapture capture() {
    return capture;
  }

  Counters counters() {
    return counters;
  }

  OtelSink otel() {
    return otel;
  }

  /**
   * Stops capture (draining the ring buffer through the pipeline), reports what connections have
   * under way, then closes the sinks (flushing span export).
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    housekeeping.shutdownNow();
    if (healthFile != null) {
      try {
        Files.deleteIfExists(healthFile); // a stopped agent is not alive
      } catch (java.io.IOException e) {
        // nothing more to do
      }
    }
    capture.close();
    if (connections != null && !capture.isRunning()) {
      // the reader thread has stopped: this thread may touch the connections now
      connections.closeAll();
    }
    sinks.close();
    if (otel != null) {
      otel.shutdown();
    }
    try {
      stdout.flush();
    } catch (java.io.IOException e) {
      // stdout gone: nothing left to tell
    }
  }

  /** One line of counters for the log: every counter with a summary label. */
  String summary() {
    return counters.summary();
  }
}
