package dev.spanwire.exporter;

import dev.spanwire.bpf.CaptureConfig;
import dev.spanwire.bpf.CaptureStats;
import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.SocketCapture;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.FanOutSink;
import dev.spanwire.exporter.output.AsyncSink;
import dev.spanwire.exporter.output.Column;
import dev.spanwire.exporter.output.JsonEventSink;
import dev.spanwire.exporter.output.Output;
import dev.spanwire.exporter.output.RawEventPrinter;
import dev.spanwire.exporter.output.TableSink;
import dev.spanwire.exporter.pipeline.HttpPipeline;
import dev.spanwire.exporter.pipeline.PipelineSettings;
import dev.spanwire.exporter.pipeline.PipelineStats;
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

/**
 * The running agent: capture, pipeline and sinks, started in that dependency order (sinks first)
 * and stopped in reverse. The capture's ring buffer thread runs the pipeline, which feeds the sinks.
 */
final class Agent implements AutoCloseable {
  /** What to run. */
  record Options(Output output, List<Column> columns, CaptureConfig capture, PipelineSettings pipeline) {}

  private final SocketCapture capture;
  private final HttpPipeline pipeline;
  private final ExchangeSink sinks;
  private final List<AsyncSink> queues;
  private final Writer stdout;
  private boolean closed;

  private Agent(SocketCapture capture, HttpPipeline pipeline, ExchangeSink sinks, List<AsyncSink> queues, Writer stdout) {
    this.capture = capture;
    this.pipeline = pipeline;
    this.sinks = sinks;
    this.queues = queues;
    this.stdout = stdout;
  }

  static Agent start(Options options) {
    KernelClock clock = KernelClock.calibrate();
    Writer stdout =
        new BufferedWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8), 1 << 16);
    if (options.output() == Output.RAW) {
      PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
      SocketCapture capture = SocketCapture.start(options.capture(), new RawEventPrinter(out, clock));
      return new Agent(capture, null, ExchangeSink.NONE, List.of(), stdout);
    }
    List<ExchangeSink> sinks = new ArrayList<>();
    List<AsyncSink> queues = new ArrayList<>();
    switch (options.output()) {
      case TABLE -> {
        TableSink table = new TableSink(stdout, options.columns(), clock);
        table.writeHeader();
        table.flush();
        queues.add(new AsyncSink("table", table, AsyncSink.DEFAULT_CAPACITY));
      }
      case JSON -> queues.add(new AsyncSink(
          "json", new JsonEventSink(stdout, clock, hostname(), JsonEventSink.EventFilter.ALL), AsyncSink.DEFAULT_CAPACITY));
      default -> {}
    }
    sinks.addAll(queues);
    ExchangeSink fanOut = new FanOutSink(sinks);
    HttpPipeline pipeline = new HttpPipeline(fanOut, options.pipeline());
    try {
      return new Agent(SocketCapture.start(options.capture(), pipeline), pipeline, fanOut, queues, stdout);
    } catch (RuntimeException e) {
      fanOut.close();
      throw e;
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

  /** The pipeline's counters, or null in raw mode. */
  PipelineStats.Snapshot pipelineStats() {
    return pipeline == null ? null : pipeline.stats().snapshot();
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
    capture.close();
    sinks.close();
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
        .append(", malformed ").append(c.malformed());
    PipelineStats.Snapshot p = pipelineStats();
    if (p != null) {
      s.append(", exchanges ").append(p.exchanges())
          .append(" (server ").append(p.serverExchanges()).append(", client ").append(p.clientExchanges()).append(')')
          .append(", unanswered ").append(p.unanswered())
          .append(", parse errors ").append(p.parseErrors())
          .append(", gaps ").append(p.gaps())
          .append(", unpaired ").append(p.unpaired())
          .append(", output dropped ").append(outputDropped());
    }
    return s.toString();
  }
}
