package dev.spanwire.exporter.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The gRPC rules, against values from gRPC's own documents (PROTOCOL-HTTP2.md, statuscodes.md). */
class GrpcCallTest {
  @Test
  void timeoutsInEveryUnit() {
    assertThat(GrpcCall.timeoutNanos("1H")).isEqualTo(3_600_000_000_000L);
    assertThat(GrpcCall.timeoutNanos("2M")).isEqualTo(120_000_000_000L);
    assertThat(GrpcCall.timeoutNanos("1S")).isEqualTo(1_000_000_000L);
    assertThat(GrpcCall.timeoutNanos("300m")).isEqualTo(300_000_000L);
    assertThat(GrpcCall.timeoutNanos("299876u")).isEqualTo(299_876_000L);
    assertThat(GrpcCall.timeoutNanos("5n")).isEqualTo(5L);
    // at most 8 digits, a known unit
    assertThat(GrpcCall.timeoutNanos("123456789S")).isEqualTo(-1);
    assertThat(GrpcCall.timeoutNanos("10x")).isEqualTo(-1);
    assertThat(GrpcCall.timeoutNanos("S")).isEqualTo(-1);
    assertThat(GrpcCall.timeoutNanos("-1S")).isEqualTo(-1);
    assertThat(GrpcCall.timeoutNanos(null)).isEqualTo(-1);
  }

  @Test
  void grpcMessageIsPercentDecodedUtf8() {
    assertThat(GrpcCall.percentDecode("no%20such%20greeting")).isEqualTo("no such greeting");
    assertThat(GrpcCall.percentDecode("caf%C3%A9 %E2%9C%93")).isEqualTo("caf\u00e9 \u2713");
    assertThat(GrpcCall.percentDecode("100%")).isEqualTo("100%");
    assertThat(GrpcCall.percentDecode("%zz%4")).isEqualTo("%zz%4");
    assertThat(GrpcCall.percentDecode("plain \uD83D\uDE00")).isEqualTo("plain \uD83D\uDE00");
  }

  @Test
  void errorsBySide() {
    // server: UNKNOWN 2, DEADLINE_EXCEEDED 4, UNIMPLEMENTED 12, INTERNAL 13, UNAVAILABLE 14, DATA_LOSS 15
    for (int code = 0; code <= 16; code++) {
      GrpcCall call = new GrpcCall("s", "m", code, null);
      boolean serverError = code == 2 || code == 4 || code == 12 || code == 13 || code == 14 || code == 15;
      assertThat(call.isError(true)).as("server %d", code).isEqualTo(serverError);
      assertThat(call.isError(false)).as("client %d", code).isEqualTo(code != 0);
    }
    assertThat(new GrpcCall("s", "m", -1, null).isError(false)).isFalse();
  }

  @Test
  void resetsMapAsGrpcMapsHttp2ErrorCodes() {
    long timeout = 300_000_000L;
    assertThat(GrpcCall.statusOfReset(8, timeout, 299_000_000L)).as("CANCEL at the deadline").isEqualTo(4);
    assertThat(GrpcCall.statusOfReset(8, timeout, 100_000_000L)).as("CANCEL well before it").isEqualTo(1);
    assertThat(GrpcCall.statusOfReset(8, -1, 10_000_000_000L)).as("CANCEL without deadline").isEqualTo(1);
    assertThat(GrpcCall.statusOfReset(7, timeout, 0)).as("REFUSED_STREAM").isEqualTo(14);
    assertThat(GrpcCall.statusOfReset(11, timeout, 0)).as("ENHANCE_YOUR_CALM").isEqualTo(8);
    assertThat(GrpcCall.statusOfReset(12, timeout, 0)).as("INADEQUATE_SECURITY").isEqualTo(7);
    assertThat(GrpcCall.statusOfReset(2, timeout, 0)).as("INTERNAL_ERROR").isEqualTo(13);
    assertThat(GrpcCall.statusOfReset(0, timeout, 0)).as("NO_ERROR").isEqualTo(13);
  }
}
