package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.Test;

class LoggingTest {
  @Test
  void exporterLevelsSurviveGarbageCollection() {
    Logging.configure(false);
    // java.util.logging keeps loggers weakly: a level set on a collected logger is gone
    for (int i = 0; i < 5; i++) {
      System.gc();
    }
    assertThat(Logger.getLogger("io.opentelemetry.exporter").getLevel()).isEqualTo(Level.OFF);
    assertThat(Logger.getLogger("io.opentelemetry.sdk").getLevel()).isEqualTo(Level.WARNING);
  }

  /** The JDK's SimpleFormatter with the pattern the agent used before is the reference. */
  @Test
  void linesAreWhatSimpleFormatterWroteWithTheAgentsPattern() {
    String property = "java.util.logging.SimpleFormatter.format";
    String before = System.getProperty(property);
    System.setProperty(property, "%1$tFT%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
    SimpleFormatter reference;
    try {
      reference = new SimpleFormatter();
    } finally {
      if (before == null) {
        System.clearProperty(property);
      } else {
        System.setProperty(property, before);
      }
    }
    Logging.LineFormatter lines = new Logging.LineFormatter();
    for (long millis : new long[] {0L, 1_796_104_586_547L, 1_796_083_199_999L, 1_709_251_200_001L, -1_234_567L}) {
      for (Level level : new Level[] {Level.INFO, Level.WARNING, Level.FINE}) {
        LogRecord record = new LogRecord(level, "capturing on {0} tracepoints (backend {1})");
        record.setInstant(Instant.ofEpochMilli(millis));
        record.setLoggerName("dev.spanwire.exporter.Main");
        record.setParameters(new Object[] {6, "socket"});
        assertThat(lines.format(record)).as(millis + " " + level).isEqualTo(reference.format(record));
      }
    }
    LogRecord failed = new LogRecord(Level.WARNING, "export failed");
    failed.setInstant(Instant.ofEpochMilli(1_796_104_586_547L));
    failed.setLoggerName("dev.spanwire.exporter.otel.SpanBatcher");
    failed.setThrown(new IllegalStateException("receiver gone"));
    assertThat(lines.format(failed)).isEqualTo(reference.format(failed))
        .startsWith("2026-").contains("WARNING dev.spanwire.exporter.otel.SpanBatcher: export failed\njava.lang.IllegalStateException: receiver gone");
  }
}
