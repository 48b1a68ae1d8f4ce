package dev.spanwire.exporter;

import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/** One-line log records on stderr; stdout belongs to the table and JSON output. */
final class Logging {
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
    root.setLevel(level);
    root.addHandler(handler);
    // the OTLP exporters log every failed export; the span and metric workers say it once instead
    Logger.getLogger("io.opentelemetry.exporter").setLevel(verbose ? Level.FINE : Level.OFF);
    Logger.getLogger("io.opentelemetry.sdk").setLevel(verbose ? Level.FINE : Level.WARNING);
  }
}
