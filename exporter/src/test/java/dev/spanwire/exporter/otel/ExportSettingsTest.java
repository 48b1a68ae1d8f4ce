package dev.spanwire.exporter.otel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The span export workers' catch-up nice value is held to Linux's range, as the reader's is. */
class ExportSettingsTest {
  @Test
  void catchUpNiceIsWithinLinuxsRange() {
    assertThat(ExportSettings.defaults().withCatchUpNice(-20).catchUpNice()).isEqualTo(-20);
    assertThat(ExportSettings.defaults().withCatchUpNice(19).catchUpNice()).isEqualTo(19);
    assertThatThrownBy(() -> ExportSettings.defaults().withCatchUpNice(-21))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("nice must be -20..19, got -21");
    assertThatThrownBy(() -> ExportSettings.defaults().withCatchUpNice(20))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("nice must be -20..19, got 20");
  }
}
