package dev.spanwire.exporter.trace;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.exporter.exchange.SpanIds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** W3C Trace Context level 1, section 3.2 (the traceparent header), case by case. */
class TraceparentTest {
  @Test
  void theSpecsExampleParses() {
    SpanIds ids = Traceparent.parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    assertThat(ids.traceIdHex()).isEqualTo("0af7651916cd43dd8448eb211c80319c");
    assertThat(ids.spanIdHex()).isEqualTo("b7ad6b7169203331");
    assertThat(ids.sampled()).isTrue();
    assertThat(Traceparent.parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00").sampled()).isFalse();
    assertThat(Traceparent.parse("  00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-03 ").traceIdHex())
        .isEqualTo("ffffffffffffffffffffffffffffffff");
  }

  @Test
  void laterVersionsMayAddFields() {
    assertThat(Traceparent.parse("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-holds")).isNotNull();
    assertThat(Traceparent.parse("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")).isNotNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "",
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra", // version 00 has no more fields
    "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // version ff is invalid
    "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", // upper case
    "00-00000000000000000000000000000000-b7ad6b7169203331-01", // all-zero trace id
    "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", // all-zero span id
    "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01", // not hex
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01", // short span id
    "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // wrong separator
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0x", // flags not hex
    "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01.more", // a later field without its dash
  })
  void invalidValuesAreIgnored(String value) {
    assertThat(Traceparent.parse(value)).isNull();
  }
}
