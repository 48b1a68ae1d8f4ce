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
    "0A-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // upper-case version
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0A", // upper-case flags
    "00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01", // upper-case span id
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1", // one flag digit
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-011", // three flag digits
    "00-0af7651916cd43dd8448eb211c8031-9cb7ad6b7169203331-01", // separator moved
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01,00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // two joined
    "00 0af7651916cd43dd8448eb211c80319c b7ad6b7169203331 01", // spaces for dashes
    "-0-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", // version not hex
    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", // no flags
  })
  void invalidValuesAreIgnored(String value) {
    assertThat(Traceparent.parse(value)).isNull();
  }

  @Test
  void flagsOtherThanSampledAreIgnoredAndIdsWithTheHighBitSetStayExact() {
    SpanIds ids = Traceparent.parse("00-ff00000000000001ff00000000000002-8000000000000001-fe");
    assertThat(ids.sampled()).as("bit 0 of fe is clear").isFalse();
    assertThat(ids.traceIdHex()).isEqualTo("ff00000000000001ff00000000000002");
    assertThat(ids.spanIdHex()).isEqualTo("8000000000000001");
    assertThat(Traceparent.parse("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-ff").sampled()).isTrue();
    assertThat(Traceparent.parse("\t00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\t")).isNotNull();
  }

  /**
   * A request with two traceparent fields: the receiving library joins them and finds the value
   * invalid, so its span starts a new trace; the span seen from outside must not claim the first.
   */
  @Test
  void aRequestWithTwoTraceparentFieldsHasNoRemoteParent() {
    var exchange = dev.spanwire.exporter.testing.Exchanges.exchange(
        dev.spanwire.exporter.testing.Exchanges.process(1, "server", null), dev.spanwire.bpf.Role.SERVER, 1,
        "GET / HTTP/1.1\nHost: h\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\n"
            + "traceparent: 00-11111111111111111111111111111111-2222222222222222-01\n\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 1_000_000L, 1_000_000L);
    assertThat(Traceparent.parse(exchange.request().traceparent())).isNull();
    var single = dev.spanwire.exporter.testing.Exchanges.exchange(
        dev.spanwire.exporter.testing.Exchanges.process(1, "server", null), dev.spanwire.bpf.Role.SERVER, 1,
        "GET / HTTP/1.1\nHost: h\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\n\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 1_000_000L, 1_000_000L);
    assertThat(Traceparent.parse(single.request().traceparent()).spanIdHex()).isEqualTo("b7ad6b7169203331");
  }
}
