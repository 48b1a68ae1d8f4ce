package dev.spanwire.exporter.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.counters.Counters;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.exchange.Request;
import dev.spanwire.exporter.exchange.SpanIds;
import dev.spanwire.exporter.testing.Exchanges;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.samplers.SamplingDecision;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Sampling decided where a trace starts, by the SDK's rules, and followed by linked spans. */
class SamplerTest {
  private static String hex(long high, long low) {
    return String.format("%016x%016x", high, low);
  }

  @Test
  void theRatioKeepsExactlyTheTracesTheSdksSamplerKeeps() {
    SplittableRandom random = new SplittableRandom(11);
    for (double ratio : new double[] {0.0, 0.001, 0.25, 0.5, 0.9999, 1.0}) {
      Sampler ours = Sampler.of("traceidratio", ratio);
      io.opentelemetry.sdk.trace.samplers.Sampler sdk = io.opentelemetry.sdk.trace.samplers.Sampler.traceIdRatioBased(ratio);
      int kept = 0;
      for (int i = 0; i < 20_000; i++) {
        long high = random.nextLong();
        long low = random.nextLong();
        boolean expected = sdk.shouldSample(Context.root(), hex(high, low), "s", SpanKind.SERVER, Attributes.empty(), List.of())
            .getDecision() == SamplingDecision.RECORD_AND_SAMPLE;
        assertThat(ours.sampleRoot(low)).as("ratio %s trace %s", ratio, hex(high, low)).isEqualTo(expected);
        kept += expected ? 1 : 0;
      }
      if (ratio == 0.25) {
        assertThat(kept).isBetween(4_700, 5_300); // the ids are random: about a quarter
      }
    }
  }

  @Test
  void namesAreTheSdksAndBadOnesAreRefused() {
    assertThat(Sampler.of("parentbased_traceidratio", 0.1)).isEqualTo(new Sampler("parentbased_traceidratio", true, 0.1));
    assertThat(Sampler.of(" ALWAYS_OFF ", 0.5)).isEqualTo(new Sampler("always_off", false, 0));
    assertThat(Sampler.of("always_on", 0.5).ratio()).isEqualTo(1.0);
    assertThatThrownBy(() -> Sampler.of("jaeger_remote", 1)).hasMessageContaining("expected always_on");
    assertThatThrownBy(() -> Sampler.of("traceidratio", 1.5)).hasMessageContaining("between 0 and 1");
  }

  @Test
  void aRemoteParentsFlagDecidesOnlyUnderTheParentBasedSamplers() {
    long low = 0x7fffffffffffff00L; // a trace the 0.5 ratio drops
    assertThat(Sampler.of("traceidratio", 0.5).sampleRoot(low)).isFalse();
    assertThat(Sampler.of("parentbased_traceidratio", 0.5).sampleUnderRemote(low, true)).isTrue();
    assertThat(Sampler.of("parentbased_always_off", 0).sampleUnderRemote(low, true)).isTrue();
    assertThat(Sampler.of("parentbased_always_on", 1).sampleUnderRemote(low, false)).isFalse();
    assertThat(Sampler.of("traceidratio", 0.5).sampleUnderRemote(low, true)).isFalse();
    assertThat(Sampler.of("always_on", 1).sampleUnderRemote(low, false)).isTrue();
  }

  private static final ProcessInfo PROCESS = Exchanges.process(10, "svc", "svc");

  private static ConnectionInfo connection(long id, Role role, int localPort, int remotePort) {
    return new ConnectionInfo(id, new InetSocketAddress("127.0.0.1", localPort),
        new InetSocketAddress("127.0.0.1", remotePort), role, PROCESS);
  }

  private static Request request(String traceparent) {
    return Exchanges.message("GET / HTTP/1.1\nHost: h\n" + (traceparent == null ? "" : "traceparent: " + traceparent + "\n")
        + "\n", true, null, 1_000);
  }

  @Test
  void everySpanLinkedIntoATraceFollowsTheDecisionAtItsRoot() {
    SpanIdentities identities = new SpanIdentities(new SplittableRandom(3), new Counters(),
        new TraceSettings(Sampler.of("parentbased_traceidratio", 0.25), Duration.ZERO), () -> 0, e -> {});
    int roots = 0;
    int kept = 0;
    for (int i = 0; i < 4_000; i++) {
      // a server exchange (a root), a call it makes on its thread, and that call's server side
      ConnectionInfo front = connection(3 * i, Role.SERVER, 8080, 20_000 + i % 20_000);
      SpanIds server = identities.decide(front, request(null), 7, true);
      ConnectionInfo out = connection(3 * i + 1, Role.CLIENT, 40_000 + i % 20_000, 9090);
      SpanIds call = identities.decide(out, request(null), 7, true);
      ConnectionInfo back = connection(3 * i + 2, Role.SERVER, 9090, 40_000 + i % 20_000);
      SpanIds callee = identities.decide(back, request(null), 8, true);
      identities.answered(callee);
      identities.answered(server);
      identities.closed(3 * i + 1);
      assertThat(call.parentSpanId()).isEqualTo(server.spanId());
      assertThat(callee.parentSpanId()).isEqualTo(call.spanId());
      assertThat(List.of(call.sampled(), callee.sampled())).containsOnly(server.sampled());
      roots++;
      kept += server.sampled() ? 1 : 0;
    }
    assertThat(kept).isBetween(roots / 4 - 150, roots / 4 + 150);
    // a caller's decision travels in its traceparent
    SpanIds unsampled = identities.decide(connection(1, Role.SERVER, 8080, 1234),
        request("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"), 9, true);
    SpanIds sampled = identities.decide(connection(2, Role.SERVER, 8080, 1235),
        request("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), 10, true);
    assertThat(unsampled.sampled()).isFalse();
    assertThat(sampled.sampled()).isTrue();
  }
}
