package dev.spanwire.exporter;

import dev.spanwire.bpf.CaptureStats;
import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.SocketCapture;
import dev.spanwire.exporter.config.Settings;
import dev.spanwire.exporter.exchange.ExchangeFields;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.FanOutSink;
import dev.spanwire.exporter.filter.ExchangeFilter;
import dev.spanwire.exporter.filter.FilterSettings;
import dev.spanwire.exporter.filter.WatchRule;
import dev.spanwire.exporter.output.AsyncSink;
import dev.spanwire.exporter.output.JsonEventSink;
import dev.spanwire.exporter.output.Output;
import dev.spanwire.exporter.output.RawEventPrinter;
import dev.spanwire.exporter.output.TableSink;
import dev.spanwire.exporter.otel.ExportSettings;
import dev.spanwire.exporter.otel.OtelSink;
import dev.spanwire.exporter.otel.SelfMetrics;
import dev.spanwire.exporter.pipeline.HttpPipeline;
import dev.spanwire.exporter.pipeline.PipelineStats;
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
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The running agent: capture, pipeline and sinks, started in that dependency order (sinks first)
 * and stopped in reverse. The capture's ring buffer thread runs the pipeline, which feeds the sinks.
 */
final class Agent implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Agent.class.getName());

  private final SocketCapture capture;
  private final HttpPipeline pipeline;
  private final ExchangeSink sinks;
  private final List<AsyncSink> queues;
  private final OtelSink otel;
  private final ExchangeFilter filter;
  private final Writer stdout;
  private final ScheduledExecutorService dropReporter;
  private boolean closed;

  private Agent(
      SocketCapture capture, HttpPipeline pipeline, ExchangeSink sinks, List<AsyncSink> queues, OtelSink otel,
      ExchangeFilter filter, Writer stdout) {
    this.capture = capture;
    this.pipeline = pipeline;
    this.sinks = sinks;
    this.queues = queues;
    this.otel = otel;
    this.filter = filter;
    this.stdout = stdout;
    this.dropReporter = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().name("spanwire-housekeeping").daemon().factory());
    this.dropReporter.scheduleAtFixedRate(new DropReport(), 1, 1, TimeUnit.MINUTES);
  }

  /** How often the kernel-to-wall-clock offset is measured again. */
  static final long CLOCK_RECALIBRATION_SECONDS = 10;

  /** How often the kernel's entries of exited processes are looked for. */
  static final long KERNEL_SWEEP_SECONDS = 60;

  /**
   * Deletes the kernel's connection entries of processes that are gone (exits whose event was
   * lost, connections that were never traced) once a minute, so the kernel table stays flat.
   */
  private void sweepKernelTable() {
    dropReporter.scheduleAtFixedRate(() -> {
      try {
        capture.sweepExitedProcesses(pid -> Files.exists(Path.of("/proc", Integer.toString(pid))));
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "sweeping the kernel connection table failed: {0}", e.getMessage());
      }
    }, KERNEL_SWEEP_SECONDS, KERNEL_SWEEP_SECONDS, TimeUnit.SECONDS);
  }

  /** Re-measures the clock offset now and then: an NTP step or a suspend moves it. */
  private void recalibrate(KernelClock clock) {
    dropReporter.scheduleAtFixedRate(() -> {
      long moved = clock.recalibrate();
      if (Math.abs(moved) > 100_000_000L) {
        LOG.log(System.Logger.Level.INFO, "the wall clock moved {0} ms against the kernel''s; times follow it",
            moved / 1_000_000);
      }
    }, CLOCK_RECALIBRATION_SECONDS, CLOCK_RECALIBRATION_SECONDS, TimeUnit.SECONDS);
  }

  /** Logs once a minute, in one line, what was dropped in that minute, if anything was. */
  private final class DropReport implements Runnable {
    private long events;
    private long spans;
    private long output;
    private long unpaired;
    private long unknown;

    @Override
    public void run() {
      long e = capture.stats().eventsLost();
      long s = otel == null ? 0 : otel.spansDropped();
      long o = outputDropped();
      long u = pipeline == null ? 0 : pipeline.stats().snapshot().unpaired();
      long k = pipeline == null ? 0 : pipeline.stats().snapshot().unknownConnection();
      if (e > events || s > spans || o > output || u > unpaired || k > unknown) {
        LOG.log(System.Logger.Level.WARNING,
            "dropped in the last minute: {0} events lost in the kernel, {1} spans, {2} output lines, {3} unpaired messages, "
                + "{4} events of unknown connections",
            e - events, s - spans, o - output, u - unpaired, k - unknown);
      }
      events = e;
      spans = s;
      output = o;
      unpaired = u;
      unknown = k;
    }
  }

  /** Starts capture with {@code settings}, writing {@code output} to stdout. */
  static Agent start(Settings settings, Output output) {
    KernelClock clock = KernelClock.calibrate();
    Writer stdout =
        new BufferedWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8), 1 << 16);
    if (output == Output.RAW) {
      PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
      SocketCapture capture = SocketCapture.start(settings.capture(), new RawEventPrinter(out, clock));
      return new Agent(capture, null, ExchangeSink.NONE, List.of(), null, null, stdout);
    }
    AtomicReference<SocketCapture> captureRef = new AtomicReference<>();
    AtomicReference<HttpPipeline> pipelineRef = new AtomicReference<>();
    AtomicReference<ExchangeFilter> filterRef = new AtomicReference<>();
    List<AsyncSink> queues = new ArrayList<>();
    FilterSettings filters = settings.filter();
    WatchRule watch = filters.watch();
    ExportSettings export = settings.export();
    OtelSink otel = export == null
        ? null
        : OtelSink.start(export, clock, hostname(), Main.version(), selfInstruments(captureRef, pipelineRef, filterRef, queues), watch);
    List<ExchangeSink> sinks = new ArrayList<>();
    switch (output) {
      case TABLE -> {
        TableSink table = new TableSink(stdout, settings.columns(), clock);
        table.writeHeader();
        table.flush();
        queues.add(new AsyncSink("table", table, AsyncSink.DEFAULT_CAPACITY));
      }
      case JSON -> {
        ExchangeFields fields = new ExchangeFields(NamingScheme.APPSCOPE, watch == null ? List.of() : watch.headers());
        JsonEventSink.EventFilter events = (source, data) -> {
          if (watch == null || !watch.emits(source) || (source.equals(JsonEventSink.RESPONSE_SOURCE) && !filters.captureResponse())) {
            return null;
          }
          return watch.keep(data);
        };
        queues.add(new AsyncSink("json", new JsonEventSink(stdout, clock, hostname(), fields, events), AsyncSink.DEFAULT_CAPACITY));
      }
      default -> {}
    }
    sinks.addAll(queues);
    if (otel != null) {
      sinks.add(otel.spans());
    }
    // metrics see every exchange; the other sinks, those the filters keep, as the filters shape them
    ExchangeFilter filter = new ExchangeFilter(new FanOutSink(sinks), filters);
    filterRef.set(filter);
    ExchangeSink fanOut = otel == null ? filter : new FanOutSink(List.of(otel.metrics(), filter));
    SocketCapture capture = null;
    try {
      capture = SocketCapture.load(settings.capture());
      HttpPipeline pipeline = new HttpPipeline(fanOut, settings.pipeline(), capture.connections());
      pipelineRef.set(pipeline);
      capture.start(pipeline);
      captureRef.set(capture);
      Agent agent = new Agent(capture, pipeline, fanOut, queues, otel, filter, stdout);
      agent.recalibrate(clock);
      agent.sweepKernelTable();
      return agent;
    } catch (RuntimeException e) {
      if (capture != null) {
        capture.close();
      }
      fanOut.close();
      if (otel != null) {
        otel.shutdown();
      }
      throw e;
    }
  }

  /** The agent's own numbers, exported as spanwire.* metrics. */
  private static List<SelfMetrics.Instrument> selfInstruments(
      AtomicReference<SocketCapture> capture, AtomicReference<HttpPipeline> pipeline,
      AtomicReference<ExchangeFilter> filter, List<AsyncSink> queues) {
    java.util.function.ToLongFunction<java.util.function.ToLongFunction<CaptureStats>> c =
        f -> capture.get() == null ? 0 : f.applyAsLong(capture.get().stats());
    java.util.function.ToLongFunction<java.util.function.ToLongFunction<PipelineStats.Snapshot>> p =
        f -> pipeline.get() == null ? 0 : f.applyAsLong(pipeline.get().stats().snapshot());
    return List.of(
        SelfMetrics.Instrument.of(AgentMetric.EVENTS_RECEIVED, () -> c.applyAsLong(CaptureStats::records)),
        SelfMetrics.Instrument.of(AgentMetric.EVENTS_LOST, () -> c.applyAsLong(CaptureStats::eventsLost)),
        SelfMetrics.Instrument.of(AgentMetric.BYTES_CAPTURED, () -> p.applyAsLong(PipelineStats.Snapshot::bytesCaptured)),
        SelfMetrics.Instrument.of(AgentMetric.PARSE_ERRORS, () -> p.applyAsLong(PipelineStats.Snapshot::parseErrors)),
        SelfMetrics.Instrument.of(AgentMetric.RESYNCS, () -> p.applyAsLong(PipelineStats.Snapshot::resyncs)),
        SelfMetrics.Instrument.of(AgentMetric.EXCHANGES, () -> p.applyAsLong(PipelineStats.Snapshot::exchanges)),
        SelfMetrics.Instrument.of(AgentMetric.CONNECTIONS_IGNORED, () -> p.applyAsLong(PipelineStats.Snapshot::ignoredConnections)),
        SelfMetrics.Instrument.of(AgentMetric.BELOW_MIN_LATENCY, () -> filter.get() == null ? 0 : filter.get().belowMinLatency()),
        SelfMetrics.Instrument.of(AgentMetric.OUTPUT_DROPPED, () -> queues.stream().mapToLong(AsyncSink::dropped).sum()),
        SelfMetrics.Instrument.of(AgentMetric.CONNECTIONS, () -> p.applyAsLong(PipelineStats.Snapshot::connections)),
        SelfMetrics.Instrument.of(AgentMetric.UNPAIRED, () -> p.applyAsLong(PipelineStats.Snapshot::unpaired)),
        SelfMetrics.Instrument.of(AgentMetric.UNANSWERED, () -> p.applyAsLong(PipelineStats.Snapshot::unanswered)),
        SelfMetrics.Instrument.of(AgentMetric.UNKNOWN_CONNECTION, () -> p.applyAsLong(PipelineStats.Snapshot::unknownConnection)),
        SelfMetrics.Instrument.of(AgentMetric.REESTABLISHED, () -> p.applyAsLong(PipelineStats.Snapshot::reestablished)),
        SelfMetrics.Instrument.of(AgentMetric.STASH_FULL, () -> c.applyAsLong(CaptureStats::stashFull)),
        SelfMetrics.Instrument.of(AgentMetric.STALE_CONNECTIONS, () -> c.applyAsLong(CaptureStats::staleConnections)));
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

  /** The pipeline's counters, or null in raw mode. */
  PipelineStats.Snapshot pipelineStats() {
    return pipeline == null ? null : pipeline.stats().snapshot();
  }

  OtelSink otel() {
    return otel;
  }

  long outputDropped() {
    return queues.stream().mapToLong(AsyncSink::dropped).sum();
  }

  /** Stops capture (draining the ring buffer through the pipeline), then the sinks. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    dropReporter.shutdownNow();
    capture.close();
    if (pipeline != null && !capture.isRunning()) {
      // the reader thread has stopped: this thread may touch the pipeline now
      pipeline.closeAll();
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

  /** One line of counters for the log. */
  String summary() {
    CaptureStats c = capture.stats();
    StringBuilder s = new StringBuilder()
        .append("records ").append(c.records())
        .append(", lost in kernel ").append(c.eventsLost()).append(" (").append(c.bytesLost()).append(" bytes)")
        .append(", untracked connections ").append(c.connectionsUntracked())
        .append(", stale connections ").append(c.staleConnections())
        .append(", syscalls unseen (stash full) ").append(c.stashFull())
        .append(", malformed ").append(c.malformed());
    PipelineStats.Snapshot p = pipelineStats();
    if (p != null) {
      s.append(", exchanges ").append(p.exchanges())
          .append(" (server ").append(p.serverExchanges()).append(", client ").append(p.clientExchanges()).append(')')
          .append(", unanswered ").append(p.unanswered())
          .append(", parse errors ").append(p.parseErrors())
          .append(", gaps ").append(p.gaps())
          .append(", unpaired ").append(p.unpaired())
          .append(", unknown connection events ").append(p.unknownConnection())
          .append(", re-established ").append(p.reestablished())
          .append(", connections ignored ").append(p.ignoredConnections())
          .append(", below min latency ").append(filter.belowMinLatency())
          .append(", output dropped ").append(outputDropped());
    }
    if (otel != null) {
      s.append(", spans exported ").append(otel.spansExported())
          .append(", spans dropped ").append(otel.spansDropped())
          .append(" (refused ").append(otel.spansRejected()).append(')')
          .append(", export failures ").append(otel.exportFailures());
    }
    return s.toString();
  }
}
