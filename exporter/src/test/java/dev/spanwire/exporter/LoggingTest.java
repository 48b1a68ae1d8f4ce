package dev.spanwire.exporter;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.logging.Level;
import java.util.logging.Logger;
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
}
