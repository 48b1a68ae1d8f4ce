package dev.spanwire.exporter;

import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

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
    System.setProperty(
        "java.util.logging.SimpleFormatter.format",
        "%1$tFT%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    ConsoleHandler handler = new ConsoleHandler();
    handler.setFormatter(new SimpleFormatter());
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
}
