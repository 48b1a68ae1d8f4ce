package dev.spanwire.exporter.connection;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The warm-up really goes through parsing and pairing: every made-up exchange comes out. */
class WarmupTest {
  @Test
  void everyMadeUpExchangeIsPaired() {
    RecordingSink sink = new RecordingSink();
    Warmup.run(PipelineSettings.defaults(), sink);
    // 40 rounds: two HTTP/1 exchanges on each side, one HTTP/2 exchange
    assertThat(sink.exchanges).hasSize(40 * 5);
    assertThat(sink.summary()).containsOnly("GET /warmup/1 -> 200", "GET / -> 200");
    assertThat(sink.exchanges).filteredOn(e -> e.version().equals("2.0")).hasSize(40);
  }
}
