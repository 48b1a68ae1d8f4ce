package dev.spanwire.exporter.otel;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The endpoint's answers, written by protobuf's own classes; hostile ones read as nothing. */
class ProtoReaderTest {
  @Test
  void partialSuccessIsReadAsProtobufWroteIt() {
    byte[] response = ExportTraceServiceResponse.newBuilder()
        .setPartialSuccess(ExportTracePartialSuccess.newBuilder().setRejectedSpans(300).setErrorMessage("bad ids ✗"))
        .build().toByteArray();
    assertThat(ProtoReader.partialSuccess(response)).isEqualTo(new ProtoReader.PartialSuccess(300, "bad ids ✗"));
    assertThat(ProtoReader.partialSuccess(ExportTraceServiceResponse.getDefaultInstance().toByteArray()))
        .isSameAs(ProtoReader.PartialSuccess.NONE);
    assertThat(ProtoReader.partialSuccess(new byte[0])).isSameAs(ProtoReader.PartialSuccess.NONE);
  }

  @Test
  void retryInfoIsFoundAmongTheDetailsPaddedOrNot() {
    com.google.rpc.Status status = com.google.rpc.Status.newBuilder().setCode(8).setMessage("slow down")
        .addDetails(com.google.protobuf.Any.pack(com.google.rpc.ErrorInfo.newBuilder().setReason("QUOTA").build()))
        .addDetails(com.google.protobuf.Any.pack(com.google.rpc.RetryInfo.newBuilder()
            .setRetryDelay(com.google.protobuf.Duration.newBuilder().setSeconds(2).setNanos(500_000_000)).build()))
        .build();
    String padded = Base64.getEncoder().encodeToString(status.toByteArray());
    String unpadded = Base64.getEncoder().withoutPadding().encodeToString(status.toByteArray());
    assertThat(ProtoReader.retryDelay(padded)).isEqualTo(Duration.ofMillis(2_500));
    assertThat(ProtoReader.retryDelay(unpadded)).isEqualTo(Duration.ofMillis(2_500));
    String noRetry = Base64.getEncoder().encodeToString(com.google.rpc.Status.newBuilder().setCode(8).build().toByteArray());
    assertThat(ProtoReader.retryDelay(noRetry)).isNull();
    assertThat(ProtoReader.retryDelay(null)).isNull();
    assertThat(ProtoReader.retryDelay("not base64 !!")).isNull();
  }

  @Test
  void garbageNeverThrowsAndReadsAsNothingOrABoundedValue() {
    Random random = new Random(17);
    for (int i = 0; i < 20_000; i++) {
      byte[] junk = new byte[random.nextInt(64)];
      random.nextBytes(junk);
      ProtoReader.PartialSuccess p = ProtoReader.partialSuccess(junk);
      assertThat(p.rejected()).isNotNegative();
      Duration d = ProtoReader.retryDelay(Base64.getEncoder().encodeToString(junk));
      if (d != null) {
        assertThat(d).isBetween(Duration.ZERO, Duration.ofDays(1).plusSeconds(1));
      }
    }
  }

  @Test
  void retryAfterTakesSecondsOrAnHttpDate() {
    Instant now = Instant.parse("2026-11-30T10:00:00Z");
    assertThat(NoDelaySenders.retryAfter("120", now)).isEqualTo(Duration.ofSeconds(120));
    assertThat(NoDelaySenders.retryAfter(" 0 ", now)).isEqualTo(Duration.ZERO);
    assertThat(NoDelaySenders.retryAfter("Mon, 30 Nov 2026 10:00:07 GMT", now)).isEqualTo(Duration.ofSeconds(7));
    assertThat(NoDelaySenders.retryAfter("Mon, 30 Nov 2026 09:59:00 GMT", now)).isEqualTo(Duration.ZERO);
    assertThat(NoDelaySenders.retryAfter("-5", now)).isNull();
    assertThat(NoDelaySenders.retryAfter("soon", now)).isNull();
    assertThat(NoDelaySenders.retryAfter(null, now)).isNull();
  }
}
