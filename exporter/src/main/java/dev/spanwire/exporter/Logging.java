package dev.spanwire.exporter;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.TimeZone;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/** One-line log records on stderr; stdout belongs to the table and JSON output. */
final class Logging {
  /**
   * The loggers whose levels are set here. java.util.logging holds loggers weakly: without these
   * references a collected logger comes back with its default level, and the OTLP exporters'
   * stack trace per failed export with it.
   */
  private static final Logger EXPORTER = Logger.getLogger("io.opentelemetry.exporter");
  private static final Logger SDK = Logger.getLogger("io.opentelemetry.sdk");
  /** Spanwire's own loggers, libbpf's output included ({@code dev.spanwire.bpf.libbpf}). */
  private static final Logger SPANWIRE = Logger.getLogger("dev.spanwire");

  private Logging() {}

  static void configure(boolean verbose) {
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    StderrHandler handler = new StderrHandler(new LineFormatter());
    Level level = verbose ? Level.FINE : Level.INFO;
    handler.setLevel(level);
    // -v is Spanwire's and the exporters' detail, not the JDK's (its security debug lists every
    // trusted certificate when the OTLP client starts)
    root.setLevel(Level.INFO);
    SPANWIRE.setLevel(level);
    root.addHandler(handler);
    // the OTLP exporters log every failed export; the span and metric workers say it once instead
    EXPORTER.setLevel(verbose ? Level.FINE : Level.OFF);
    SDK.setLevel(verbose ? Level.FINE : Level.WARNING);
  }

  /**
   * What {@link java.util.logging.ConsoleHandler} does — each record flushed to stderr, which
   * close leaves open — with the line format below and no formatter looked up in the logging
   * properties.
   */
  private static final class StderrHandler extends StreamHandler {
    StderrHandler(Formatter formatter) {
      super(System.err, formatter);
    }

    @Override
    public synchronized void publish(LogRecord record) {
      super.publish(record);
      flush();
    }

    @Override
    public synchronized void close() {
      flush();
    }
  }

  /**
   * One line per record, {@code 2026-12-01T06:13:35.308 INFO logger: message}, and the stack
   * trace after it. SimpleFormatter with the same pattern checks its pattern by formatting the
   * current time through java.util.Formatter and java.time's zone rules when it is made: 40-85 ms
   * of every start, before a line is written; this takes the zone offset from TimeZone and writes
   * the digits itself.
   */
  static final class LineFormatter extends Formatter {
    @Override
    public String format(LogRecord record) {
      long millis = record.getMillis();
      int offsetSeconds = TimeZone.getDefault().getOffset(millis) / 1000;
      LocalDateTime time = LocalDateTime.ofEpochSecond(
          Math.floorDiv(millis, 1000), (int) Math.floorMod(millis, 1000) * 1_000_000, ZoneOffset.ofTotalSeconds(offsetSeconds));
      StringBuilder line = new StringBuilder(160).append(time.toLocalDate()).append('T');
      digits(line, time.getHour(), 2).append(':');
      digits(line, time.getMinute(), 2).append(':');
      digits(line, time.getSecond(), 2).append('.');
      digits(line, time.getNano() / 1_000_000, 3);
      line.append(' ').append(record.getLevel().getName()).append(' ').append(record.getLoggerName()).append(": ")
          .append(formatMessage(record));
      if (record.getThrown() != null) {
        StringWriter trace = new StringWriter();
        try (PrintWriter out = new PrintWriter(trace)) {
          out.println();
          record.getThrown().printStackTrace(out);
        }
        line.append(trace);
      }
      return line.append(System.lineSeparator()).toString();
    }

    private static StringBuilder digits(StringBuilder line, int value, int width) {
      String text = Integer.toString(value);
      for (int i = text.length(); i < width; i++) {
        line.append('0');
      }
      return line.append(text);
    }
  }
}
