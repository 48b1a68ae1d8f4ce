package dev.spanwire.exporter.filter;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.exchange.Headers;
import dev.spanwire.exporter.exchange.Request;
import dev.spanwire.exporter.testing.Exchanges;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExchangeFilterTest {
  private static final long MS = 1_000_000L;
  private static final ProcessInfo APP = Exchanges.process(7, "app", null);

  /** What reaches the sinks, in order: "req TARGET" and "exchange TARGET". */
  private final List<String> seen = new ArrayList<>();
  private final List<Exchange> exchanges = new ArrayList<>();
  private final ExchangeSink next = new ExchangeSink() {
    @Override
    public void onRequest(ConnectionInfo connection, String version, Request request) {
      seen.add("req " + request.target());
    }

    @Override
    public boolean takesRequests() {
      return true;
    }

    @Override
    public void onExchange(Exchange exchange) {
      seen.add("exchange " + exchange.request().target());
      exchanges.add(exchange);
    }
  };

  private static Exchange exchange(String target, long millis) {
    return Exchanges.exchange(APP, Role.SERVER, 1,
        "GET " + target + " HTTP/1.1\nHost: h\nUser-Agent: ua\nCookie: c=1\n\n",
        "HTTP/1.1 200 OK\nContent-Length: 2\nSet-Cookie: s=2\n\nok", 1_000 * MS, millis * MS);
  }

  private static FilterSettings settings(boolean request, boolean response, Duration minLatency) {
    return new FilterSettings(request, response, minLatency, Redaction.defaults(), WatchRule.defaults());
  }

  private static void deliver(ExchangeFilter filter, Exchange e) {
    filter.onRequest(e.connection(), e.version(), e.request());
    filter.onExchange(e);
  }

  @Test
  void minLatencyDropsFastExchangesAndDefersRequestEvents() {
    ExchangeFilter filter = new ExchangeFilter(next, settings(true, true, Duration.ofMillis(100)));
    deliver(filter, exchange("/fast", 3));
    deliver(filter, exchange("/slow", 250));
    // a request without answer has no latency to compare: it is reported
    Exchange unanswered = exchange("/gone", 1).withMessages(exchange("/gone", 1).request(), null);
    deliver(filter, unanswered);
    assertThat(seen).containsExactly("req /slow", "exchange /slow", "req /gone", "exchange /gone");
    assertThat(filter.belowMinLatency()).isEqualTo(1);
  }

  @Test
  void withoutMinLatencyRequestsGoOutWhenTheyComplete() {
    ExchangeFilter filter = new ExchangeFilter(next, settings(true, true, Duration.ZERO));
    Exchange e = exchange("/a", 3);
    filter.onRequest(e.connection(), e.version(), e.request());
    assertThat(seen).containsExactly("req /a");
    filter.onExchange(e);
    assertThat(seen).containsExactly("req /a", "exchange /a");
  }

  @Test
  void requestsReachNoSinkThatDoesNotTakeThem() {
    List<String> onlyExchanges = new ArrayList<>();
    ExchangeSink table = new ExchangeSink() {
      @Override
      public void onRequest(ConnectionInfo connection, String version, Request request) {
        onlyExchanges.add("req " + request.target()); // not called: it says it takes none
      }

      @Override
      public void onExchange(Exchange exchange) {
        onlyExchanges.add("exchange " + exchange.request().target());
      }
    };
    for (Duration minLatency : List.of(Duration.ZERO, Duration.ofMillis(1))) {
      ExchangeFilter filter = new ExchangeFilter(table, settings(true, true, minLatency));
      assertThat(filter.takesRequests()).isFalse();
      deliver(filter, exchange("/a" + minLatency.toMillis(), 3));
    }
    assertThat(onlyExchanges).containsExactly("exchange /a0", "exchange /a1");
    assertThat(new ExchangeFilter(next, settings(true, true, Duration.ZERO)).takesRequests()).isTrue();
    assertThat(new ExchangeFilter(next, settings(false, true, Duration.ZERO)).takesRequests())
        .as("request capture off").isFalse();
  }

  @Test
  void captureFlagsStripHeadersAndBodiesButKeepStartLinesAndSizes() {
    ExchangeFilter filter = new ExchangeFilter(next, settings(false, false, Duration.ZERO));
    deliver(filter, exchange("/a", 3));
    assertThat(seen).containsExactly("exchange /a");
    Exchange out = exchanges.getFirst();
    assertThat(out.request().method()).isEqualTo("GET");
    assertThat(out.request().authority()).isNull();
    assertThat(out.request().userAgent()).isNull();
    assertThat(out.response().statusCode()).isEqualTo(200);
    assertThat(out.response().declaredLength()).isEqualTo(2);
    assertThat(out.durationNanos()).isEqualTo(3 * MS);
  }

  @Test
  void secretsAreRedactedBeforeAnySinkSeesThem() {
    ExchangeFilter filter = new ExchangeFilter(next, settings(true, true, Duration.ZERO));
    Exchange e = Exchanges.exchange(APP, Role.SERVER, 1, "GET /a?token=s3cr3t&x=1 HTTP/1.1\nHost: h\n\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 1_000 * MS, MS);
    Request withLines = e.request().with(e.request().target(),
        Headers.ofLines(List.of("Host: h", "Authorization: Basic YTpi")), e.request().bodyPrefix());
    filter.onExchange(e.withMessages(withLines, e.response()));
    Exchange out = exchanges.getFirst();
    assertThat(out.request().target()).isEqualTo("/a?token=REDACTED&x=1");
    assertThat(out.request().headers().lines()).containsExactly("Host: h", "Authorization: REDACTED");
  }

  @Test
  void capturedBodiesAreRedactedByTheSameNames() {
    Exchange e = exchange("/login", 5);
    byte[] form = "user=ann&password=hunter2".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] json = "{\"access_token\":\"eyJ0\",\"expires_in\":3600}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    Exchange withBodies = e.withMessages(
        e.request().with(e.request().target(), e.request().headers(), form),
        e.response().with(e.response().headers(), json));
    new ExchangeFilter(next, settings(true, true, Duration.ZERO)).onExchange(withBodies);
    Exchange out = exchanges.getFirst();
    assertThat(new String(out.request().bodyPrefix(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("user=ann&password=REDACTED");
    assertThat(new String(out.response().bodyPrefix(), java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo("{\"access_token\":\"REDACTED\",\"expires_in\":3600}");
  }
}
