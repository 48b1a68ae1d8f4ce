package dev.spanwire.exporter.connection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.Exchange;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pipeline on event sequences as the kernel sends them; no kernel needed. */
class ConnectionTrackerTest {
  @TempDir Path proc;

  private final RecordingSink sink = new RecordingSink();
  private long clock = 0;

  private ConnectionTracker pipeline(PipelineSettings settings) {
    return new ConnectionTracker(sink, settings, new ProcessRegistry(proc), () -> clock);
  }

  private ConnectionTracker pipeline() {
    return pipeline(PairingSettings.immediate());
  }

  @Test
  void keepAliveExchangesPairWithEveryField() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET /a?x=1 HTTP/1.1\nHost: example.test\nUser-Agent: curl/8\nX-Forwarded-For: 10.0.0.1\nX-AppScope: app=1\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 5\n\nhello"));
    pipeline.onEvent(s.in("POST /b HTTP/1.1\nHost: example.test\nContent-Length: 3\n\nabc"));
    pipeline.onEvent(s.out("HTTP/1.1 201 Created\nContent-Length: 0\n\n"));
    pipeline.afterBatch();

    assertThat(sink.summary()).containsExactly("GET /a?x=1 -> 200", "POST /b -> 201");
    Exchange first = sink.exchanges.getFirst();
    assertThat(first.role()).isEqualTo(Role.SERVER);
    assertThat(first.request().authority()).isEqualTo("example.test");
    assertThat(first.request().userAgent()).isEqualTo("curl/8");
    assertThat(first.request().xForwardedFor()).isEqualTo("10.0.0.1");
    assertThat(first.request().xAppscope()).isEqualTo("app=1");
    assertThat(first.version()).isEqualTo("1.1");
    assertThat(first.response().statusText()).isEqualTo("OK");
    assertThat(first.response().declaredLength()).isEqualTo(5);
    assertThat(first.response().bodyBytes()).isEqualTo(5);
    assertThat(first.connection().scheme()).isEqualTo("http");
    // EventScript's clock moves 1 us per event: open at 1.000001 s, request 1.000002 s, answer 1.000003 s
    assertThat(first.request().headNanos()).isEqualTo(1_000_002_000L);
    assertThat(first.response().headNanos()).isEqualTo(1_000_003_000L);
    assertThat(first.durationNanos()).isEqualTo(1_000L);
    assertThat(first.startNanos()).isEqualTo(1_000_002_000L);
    assertThat(first.endNanos()).isEqualTo(1_000_003_000L);
    assertThat(sink.exchanges.get(1).request().declaredLength()).isEqualTo(3);
    assertThat(sink.requests).hasSize(2);
    assertThat(pipeline.stats().exchanges()).isEqualTo(2);
  }

  @Test
  void pipelinedRequestsPairInOrder() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET /1 HTTP/1.1\nHost: h\n\nGET /2 HTTP/1.1\nHost: h\n\nGET /3 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 1\n\na"));
    pipeline.onEvent(s.out("HTTP/1.1 404 Not Found\nContent-Length: 1\n\nbHTTP/1.1 500 Internal Server Error\nContent-Length: 0\n\n"));
    assertThat(sink.summary()).containsExactly("GET /1 -> 200", "GET /2 -> 404", "GET /3 -> 500");
  }

  @Test
  void headResponseHasNoBodyWhateverItsLength() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("HEAD /big HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 1000\n\n"));
    pipeline.onEvent(s.in("GET /next HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 204 No Content\n\n"));
    assertThat(sink.summary()).containsExactly("HEAD /big -> 200", "GET /next -> 204");
    assertThat(sink.exchanges.getFirst().response().bodyBytes()).isZero();
  }

  @Test
  void continueResponseIsInterimAndTheFinalOnePairs() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("PUT /up HTTP/1.1\nHost: h\nExpect: 100-continue\nContent-Length: 4\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 100 Continue\n\n"));
    pipeline.onEvent(s.in("data"));
    pipeline.onEvent(s.out("HTTP/1.1 201 Created\nContent-Length: 0\n\n"));
    assertThat(sink.summary()).containsExactly("PUT /up -> 201");
  }

  @Test
  void notModifiedHasNoBody() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.client(1);
    pipeline.onEvent(s.open(Role.CLIENT));
    pipeline.onEvent(s.out("GET /c HTTP/1.1\nHost: h\nIf-Modified-Since: Sun, 22 Nov 2026 10:00:00 GMT\n\n"));
    pipeline.onEvent(s.in("HTTP/1.1 304 Not Modified\nETag: \"x\"\n\n"));
    pipeline.onEvent(s.out("GET /d HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.in("HTTP/1.1 200 OK\nContent-Length: 2\n\nok"));
    assertThat(sink.summary()).containsExactly("GET /c -> 304", "GET /d -> 200");
    assertThat(sink.exchanges.getFirst().role()).isEqualTo(Role.CLIENT);
  }

  @Test
  void bodyUntilCloseEndsWithTheConnection() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET / HTTP/1.0\n\n"));
    pipeline.onEvent(s.out("HTTP/1.0 200 OK\nServer: SimpleHTTP\n\n"));
    pipeline.onEvent(s.out("first part, "));
    pipeline.onEvent(s.out("second part"));
    assertThat(sink.exchanges).isEmpty();
    pipeline.onEvent(s.close());
    assertThat(sink.summary()).containsExactly("GET / -> 200");
    // delimited by close: a body, no declared length (HTTP/1 framing stays in the session)
    assertThat(sink.exchanges.getFirst().response().hasBody()).isTrue();
    assertThat(sink.exchanges.getFirst().response().declaredLength()).isEqualTo(-1);
    assertThat(sink.exchanges.getFirst().response().bodyBytes()).isEqualTo(23);
    assertThat(sink.exchanges.getFirst().version()).isEqualTo("1.0");
  }

  @Test
  void chunkedBodiesWithTrailersAreFramed() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("POST /upload HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n5\nhello\n"));
    pipeline.onEvent(s.in("6;ext=1\n world\n0\nChecksum: abc\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nok\n0\n\n"));
    assertThat(sink.summary()).containsExactly("POST /upload -> 200");
    Exchange e = sink.exchanges.getFirst();
    // chunked: the one framing of a request body without a declared length
    assertThat(e.request().hasBody()).isTrue();
    assertThat(e.request().declaredLength()).isEqualTo(-1);
    assertThat(e.request().bodyBytes()).isEqualTo(11);
    assertThat(e.response().bodyBytes()).isEqualTo(2);
  }

  @Test
  void largeBodyIsSkippedByLengthWithoutItsBytes() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.client(1);
    int size = 10 << 20;
    pipeline.onEvent(s.open(Role.CLIENT));
    pipeline.onEvent(s.out("GET /10m HTTP/1.1\nHost: h\n\n"));
    byte[] head = EventScript.http("HTTP/1.1 200 OK\nContent-Length: " + size + "\n\n");
    byte[] first = Arrays.copyOf(head, head.length + 65536);
    pipeline.onEvent(s.truncated(Direction.INGRESS, first, 4096));
    long left = size - 65536;
    while (left > 0) {
      int n = (int) Math.min(65536, left);
      pipeline.onEvent(s.truncated(Direction.INGRESS, new byte[n], Math.min(n, 4096)));
      left -= n;
    }
    pipeline.onEvent(s.out("GET /after HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    assertThat(sink.summary()).containsExactly("GET /10m -> 200", "GET /after -> 200");
    assertThat(sink.exchanges.getFirst().response().bodyBytes()).isEqualTo(size);
    assertThat(sink.exchanges.getFirst().response().truncated()).isFalse();
  }

  @Test
  void chunkedBodyInOneTruncatedWriteEndsWithItsLastChunk() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.client(1);
    pipeline.onEvent(s.open(Role.CLIENT));
    byte[] head = EventScript.http("POST /up HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n4e20\n");
    byte[] write = new byte[head.length + 20_000 + 7];
    System.arraycopy(head, 0, write, 0, head.length);
    System.arraycopy(EventScript.http("\n0\n\n"), 0, write, head.length + 20_000, 7);
    pipeline.onEvent(s.truncated(Direction.EGRESS, write, 4096));
    pipeline.onEvent(s.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    // the same with a chunk header hidden in the uncaptured part: framing lost, marked truncated
    byte[] two = EventScript.http("POST /two HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n1000\n");
    byte[] write2 = new byte[two.length + 4096 + 2 + 8 + 100 + 7];
    System.arraycopy(two, 0, write2, 0, two.length);
    pipeline.onEvent(s.truncated(Direction.EGRESS, write2, 4096));
    pipeline.onEvent(s.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.afterBatch();
    assertThat(sink.summary()).containsExactly("POST /up -> 200", "POST /two -> 200");
    assertThat(sink.exchanges.get(0).request().bodyBytes()).isEqualTo(20_000);
    assertThat(sink.exchanges.get(0).request().truncated()).isFalse();
    assertThat(sink.exchanges.get(1).request().truncated()).isTrue();
  }

  @Test
  void headerBlockSplitOverManyReads() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    for (String piece : new String[] {"GE", "T /sp", "lit HTTP/1.", "1\nHo", "st: h\n", "\n"}) {
      pipeline.onEvent(s.in(piece));
    }
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    assertThat(sink.summary()).containsExactly("GET /split -> 200");
    assertThat(sink.exchanges.getFirst().request().authority()).isEqualTo("h");
  }

  @Test
  void gapInRequestsResyncsWithoutWrongPair() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET /1 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    s.lose(Direction.INGRESS, 26); // GET /2 lost in the kernel
    pipeline.onEvent(s.out("HTTP/1.1 404 Not Found\nContent-Length: 0\n\n")); // its answer
    pipeline.onEvent(s.in("GET /3 HTTP/1.1\nHost: h\n\n"));
    pipeline.afterBatch(); // the batch ends: the missing range is a gap
    pipeline.onEvent(s.out("HTTP/1.1 500 Internal Server Error\nContent-Length: 0\n\n"));
    pipeline.afterBatch();

    assertThat(sink.summary()).containsExactly("GET /1 -> 200", "GET /3 -> 500");
    PipelineStats stats = pipeline.stats();
    assertThat(stats.gaps()).isEqualTo(1);
    assertThat(stats.gapBytes()).isEqualTo(26);
    assertThat(stats.unpaired()).isEqualTo(1);
    assertThat(stats.resyncs()).as("the request stream's gap").isEqualTo(1);
  }

  @Test
  void gapInResponsesDropsTheRequestItAnswered() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET /1 HTTP/1.1\nHost: h\n\n"));
    s.lose(Direction.EGRESS, 40); // the whole answer lost
    pipeline.onEvent(s.in("GET /2 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 201 Created\nContent-Length: 0\n\n"));
    pipeline.afterBatch();
    pipeline.onEvent(s.in("GET /3 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 202 Accepted\nContent-Length: 0\n\n"));
    pipeline.afterBatch();
    // /2's answer came right after the gap, before any fresh request: not paired by guess
    assertThat(sink.summary()).containsExactly("GET /3 -> 202");
  }

  @Test
  void gapOnAPipelinedConnectionStopsPairing() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET /1 HTTP/1.1\nHost: h\n\n"));
    s.lose(Direction.INGRESS, 26); // GET /2, pipelined and lost
    pipeline.onEvent(s.in("GET /3 HTTP/1.1\nHost: h\n\n"));
    pipeline.afterBatch();
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n")); // answers /1 (dropped)
    pipeline.onEvent(s.out("HTTP/1.1 404 Not Found\nContent-Length: 0\n\n")); // answers /2
    pipeline.onEvent(s.out("HTTP/1.1 500 Internal Server Error\nContent-Length: 0\n\n")); // answers /3
    pipeline.afterBatch();
    // /1 was seen whole before the loss, so the first answer is its own; after it, nothing is certain
    assertThat(sink.summary()).containsExactly("GET /1 -> 200");
    assertThat(pipeline.stats().unpaired()).as("GET /3, and the answers 404 and 500").isEqualTo(3);
  }

  @Test
  void pipeliningSeenEarlierStopsPairingAtALaterGap() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET /1 HTTP/1.1\nHost: h\n\nGET /2 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    assertThat(sink.summary()).containsExactly("GET /1 -> 200", "GET /2 -> 200");
    s.lose(Direction.EGRESS, 38);
    pipeline.onEvent(s.in("GET /3 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.afterBatch();
    pipeline.onEvent(s.in("GET /4 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.afterBatch();
    assertThat(sink.summary()).containsExactly("GET /1 -> 200", "GET /2 -> 200");
  }

  @Test
  void reorderedEventsAreReassembled() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    var first = s.in("GET /order HTTP/1.1\n");
    var second = s.in("Host: h\n\n");
    pipeline.onEvent(second);
    pipeline.onEvent(first);
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.afterBatch();
    assertThat(sink.summary()).containsExactly("GET /order -> 200");
    assertThat(pipeline.stats().gaps()).isZero();
    assertThat(pipeline.stats().reordered()).isEqualTo(1);
  }

  @Test
  void unknownRoleIsLearnedFromTheFirstRequest() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.client(1);
    pipeline.onEvent(s.open(Role.UNKNOWN));
    pipeline.onEvent(s.out("GET /x HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    assertThat(sink.summary()).containsExactly("GET /x -> 200");
    assertThat(sink.exchanges.getFirst().role()).isEqualTo(Role.CLIENT);
  }

  @Test
  void switchingProtocolsLeavesHttp1() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET /ws HTTP/1.1\nHost: h\nConnection: Upgrade\nUpgrade: websocket\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 101 Switching Protocols\nConnection: Upgrade\nUpgrade: websocket\n\n"));
    pipeline.onEvent(s.data(Direction.INGRESS, new byte[] {(byte) 0x81, 0x05, 'h', 'e', 'l', 'l', 'o'}));
    pipeline.onEvent(s.data(Direction.EGRESS, new byte[] {(byte) 0x81, 0x02, 'h', 'i'}));
    pipeline.onEvent(s.close());
    pipeline.afterBatch();
    assertThat(sink.summary()).containsExactly("GET /ws -> 101");
    assertThat(pipeline.stats().upgrades()).isEqualTo(1);
    assertThat(pipeline.stats().parseErrors()).isZero();
  }

  @Test
  void refusedUpgradeKeepsParsingHttp1() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET /ws HTTP/1.1\nHost: h\nConnection: Upgrade\nUpgrade: websocket\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(s.in("GET /again HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    assertThat(sink.summary()).containsExactly("GET /ws -> 200", "GET /again -> 200");
  }

  @Test
  void malformedRequestIsCountedAndTheNextEventResyncs() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET /bad HTTP/1.1\nBad Header: x\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 400 Bad Request\nContent-Length: 0\nConnection: keep-alive\n\n"));
    pipeline.onEvent(s.in("GET /good HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.afterBatch();
    assertThat(sink.summary()).containsExactly("GET /good -> 200");
    assertThat(pipeline.stats().parseErrors()).isEqualTo(1);
  }

  @Test
  void closeReportsARequestThatGotNoAnswer() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.client(1);
    pipeline.onEvent(s.open(Role.CLIENT));
    pipeline.onEvent(s.out("GET /slow HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.close());
    pipeline.afterBatch();
    assertThat(sink.summary()).containsExactly("GET /slow -> none");
    assertThat(pipeline.stats().unanswered()).isEqualTo(1);
  }

  @Test
  void dataForAnUnknownConnectionIsCounted() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(9);
    pipeline.onEvent(s.in("GET / HTTP/1.1\n\n"));
    pipeline.afterBatch();
    assertThat(pipeline.stats().unknownConnection()).isEqualTo(1);
  }

  @Test
  void idleAndExcessConnectionsAreEvicted() {
    ConnectionTracker pipeline = pipeline(PairingSettings.immediate().withMaxConnections(2).withIdleTimeout(Duration.ofSeconds(1)));
    for (int id = 1; id <= 3; id++) {
      pipeline.onEvent(EventScript.server(id).open(Role.SERVER));
    }
    pipeline.afterBatch();
    assertThat(pipeline.stats().connections()).isEqualTo(2);
    clock = 60_000_000_000L; // a minute later
    pipeline.afterBatch();
    assertThat(pipeline.stats().connections()).isZero();
    assertThat(pipeline.stats().evictedConnections()).isEqualTo(3);
  }

  /**
   * Past the bound the connection silent the longest goes (not the one opened first), and the
   * requests it still waited on are counted unpaired, never reported as answered nor forgotten.
   */
  @Test
  void theBoundEvictsTheLeastRecentlyActiveConnectionAndCountsWhatItWaitedFor() {
    ConnectionTracker pipeline = pipeline(PairingSettings.immediate().withMaxConnections(2));
    EventScript first = EventScript.server(1);
    EventScript second = EventScript.server(2);
    pipeline.onEvent(first.open(Role.SERVER));
    pipeline.onEvent(second.open(Role.SERVER));
    pipeline.onEvent(second.in("GET /a HTTP/1.1\nHost: h\n\nGET /b HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(first.in("GET /c HTTP/1.1\nHost: h\n\n")); // the first is now the more recent
    pipeline.onEvent(EventScript.server(3).open(Role.SERVER));
    pipeline.afterBatch();
    assertThat(pipeline.stats().evictedConnections()).isEqualTo(1);
    assertThat(pipeline.stats().unpaired()).isEqualTo(2);
    assertThat(pipeline.stats().unpairedRequests()).isEqualTo(2);
    assertThat(pipeline.stats().unanswered()).isZero();
    // the first one stayed: its answer pairs
    pipeline.onEvent(first.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    assertThat(sink.summary()).containsExactly("GET /c -> 200");
    assertThat(pipeline.stats().connections()).isEqualTo(2);
  }

  /**
   * A client that writes its request a byte at a time (a slow client; what a server's reads see
   * of it): off the port list the first byte cannot tell, so the pipeline waits for enough bytes
   * to detect HTTP rather than ignoring the connection, and the exchange starts at its first byte.
   */
  @Test
  void aRequestWrittenAByteAtATimeOffThePortListIsDetectedOnceItsBytesTell() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = new EventScript(1, 9931, 50001);
    pipeline.onEvent(s.open(Role.SERVER));
    long first = s.now() + 1_000;
    for (char c : "GET /slow HTTP/1.1\nHost: h\n\n".toCharArray()) {
      pipeline.onEvent(s.in(String.valueOf(c)));
    }
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.afterBatch();
    assertThat(sink.summary()).containsExactly("GET /slow -> 200");
    assertThat(sink.exchanges.getFirst().request().authority()).isEqualTo("h");
    assertThat(sink.exchanges.getFirst().startNanos()).as("the request's first byte").isEqualTo(first);
    assertThat(pipeline.stats().detected()).isEqualTo(1);
    assertThat(pipeline.stats().ignoredConnections()).isZero();
  }

  /** Bytes a few at a time that turn out not to be HTTP are ignored as a whole start would be. */
  @Test
  void aStartWrittenAByteAtATimeThatIsNotHttpIsIgnored() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = new EventScript(1, 9931, 50001);
    pipeline.onEvent(s.open(Role.SERVER));
    for (char c : "EHLO mail.example\n".toCharArray()) {
      pipeline.onEvent(s.in(String.valueOf(c)));
    }
    pipeline.onEvent(s.out("250 ok\n"));
    pipeline.afterBatch();
    assertThat(sink.exchanges).isEmpty();
    assertThat(pipeline.stats().ignoredConnections()).isEqualTo(1);
    assertThat(pipeline.stats().parseErrors()).isZero();
  }

  @Test
  void truncatedHeaderBlockStillReportsTheRequest() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    byte[] request = EventScript.http("GET /cookies HTTP/1.1\nHost: h\nCookie: " + "c".repeat(6000) + "\n\n");
    pipeline.onEvent(s.truncated(Direction.INGRESS, request, 4096));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(s.in("GET /next HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    assertThat(sink.summary()).containsExactly("GET /cookies -> 200", "GET /next -> 200");
    assertThat(sink.exchanges.getFirst().request().truncated()).isTrue();
    assertThat(sink.exchanges.getFirst().request().authority()).isEqualTo("h");
  }

  @Test
  void shutdownReportsWhatIsUnderWayAndWhatWaits() {
    ConnectionTracker pipeline = pipeline();
    EventScript slow = EventScript.client(1);
    pipeline.onEvent(slow.open(Role.CLIENT));
    pipeline.onEvent(slow.out("GET /slow HTTP/1.1\nHost: h\n\n"));
    EventScript streaming = EventScript.server(2);
    pipeline.onEvent(streaming.open(Role.SERVER));
    pipeline.onEvent(streaming.in("GET /stream HTTP/1.0\n\n"));
    pipeline.onEvent(streaming.out("HTTP/1.0 200 OK\n\npart"));
    pipeline.afterBatch();
    assertThat(sink.exchanges).isEmpty();

    pipeline.closeAll();
    assertThat(sink.summary()).containsExactlyInAnyOrder("GET /slow -> none", "GET /stream -> 200");
    Exchange stream = sink.exchanges.stream().filter(e -> e.response() != null).findFirst().orElseThrow();
    assertThat(stream.response().truncated()).as("a body that had not ended").isTrue();
    assertThat(pipeline.stats().unanswered()).isEqualTo(1);
  }

  /**
   * A long body: the session tells the kernel where it ends; the kernel then sends nothing for
   * the body's middle and a length-only event for its last bytes. The hole is skipped, not lost,
   * and the next exchange on the connection pairs. Without the promise the hole is a gap.
   */
  @Test
  void aBodyTheKernelWasToldToSkipLeavesAHoleThatIsNotALoss() {
    java.util.List<String> hints = new java.util.ArrayList<>();
    dev.spanwire.bpf.ConnectionTable table = new dev.spanwire.bpf.ConnectionTable() {
      @Override
      public java.util.Optional<dev.spanwire.bpf.KernelConnection> find(long key, long connectionId) {
        return java.util.Optional.empty();
      }

      @Override
      public void forget(long key, long connectionId) {}

      @Override
      public void skipUntil(long key, long connectionId, Direction direction, long position) {
        hints.add(connectionId + " " + direction + " " + position);
      }
    };
    ConnectionTracker pipeline = new ConnectionTracker(sink, PairingSettings.immediate(), new ProcessRegistry(proc), () -> clock, table);
    EventScript s = EventScript.client(1);
    pipeline.onEvent(s.open(Role.CLIENT));
    pipeline.onEvent(s.out("GET /big HTTP/1.1\nHost: h\n\n"));
    byte[] head = EventScript.http("HTTP/1.1 200 OK\nContent-Length: 1000000\n\n"); // 17 + 25 + 2 = 44 bytes
    byte[] first = Arrays.copyOf(head, head.length + 16384);
    pipeline.onEvent(s.truncated(Direction.INGRESS, first, 4096)); // head and 16 KiB of body, 4 KiB captured
    assertThat(hints).containsExactly("1 INGRESS " + (44 + 1_000_000));
    s.lose(Direction.INGRESS, 1_000_000 - 16384 - 1000); // the kernel sent nothing for these
    pipeline.onEvent(s.data(Direction.INGRESS, new byte[0], 1000)); // the last 1000 bytes: a length
    pipeline.afterBatch();
    pipeline.onEvent(s.out("GET /next HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.in("HTTP/1.1 204 No Content\n\n"));
    pipeline.afterBatch();

    assertThat(sink.summary()).containsExactly("GET /big -> 200", "GET /next -> 204");
    assertThat(sink.exchanges.getFirst().response().bodyBytes()).isEqualTo(1_000_000);
    assertThat(pipeline.stats().gaps()).isZero();
    assertThat(pipeline.stats().parseErrors()).isZero();

    // a hole that runs past the promise is lost from the promise on
    EventScript c = EventScript.client(2);
    pipeline.onEvent(c.open(Role.CLIENT));
    pipeline.onEvent(c.out("GET /big HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(c.truncated(Direction.INGRESS, first, 4096));
    c.lose(Direction.INGRESS, 1_000_000 - 16384 + 500); // the body, then 500 bytes of something
    pipeline.onEvent(c.in("HTTP/1.1 204 No Content\n\n"));
    pipeline.afterBatch();
    assertThat(pipeline.stats().gaps()).isEqualTo(1);
    assertThat(pipeline.stats().gapBytes()).isEqualTo(500);
  }

  /**
   * A complete request's captured body waits with it for the answer: it stays in the pipeline's
   * body budget until the exchange leaves (answered, or its connection gone), so uploads waiting
   * on a slow server cannot outgrow the heap — 50 staggered 1 MiB uploads to a server answering
   * after 12 s killed the agent (OutOfMemoryError) when a request gave its bytes back on completion.
   */
  @Test
  void requestBodiesWaitingForTheirAnswersStayInTheBudget() {
    var budget = new dev.spanwire.exporter.protocol.BodyBudget(1000);
    ConnectionTracker pipeline = new ConnectionTracker(sink, PairingSettings.immediate().withBodyCaptureBytes(4096),
        new ProcessRegistry(proc), () -> clock, dev.spanwire.bpf.ConnectionTable.NONE,
        new dev.spanwire.exporter.counters.Counters(), dev.spanwire.exporter.protocol.Protocols.registered(), budget);
    EventScript a = EventScript.server(1);
    EventScript b = EventScript.server(2);
    pipeline.onEvent(a.open(Role.SERVER));
    pipeline.onEvent(b.open(Role.SERVER));
    pipeline.onEvent(a.in("POST /a HTTP/1.1\nHost: h\nContent-Length: 800\n\n" + "a".repeat(800)));
    assertThat(budget.held()).as("/a complete, waiting for its answer").isEqualTo(800);
    pipeline.onEvent(b.in("POST /b HTTP/1.1\nHost: h\nContent-Length: 500\n\n" + "b".repeat(500)));
    assertThat(budget.held()).as("/b kept the 200 left").isEqualTo(1000);
    pipeline.onEvent(a.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    assertThat(budget.held()).as("/a answered: its 800 back").isEqualTo(200);
    pipeline.onEvent(b.out("HTTP/1.1 201 Created\nContent-Length: 0\n\n"));
    assertThat(budget.held()).isZero();
    assertThat(sink.exchanges).extracting(e -> e.request().target()).containsExactly("/a", "/b");
    assertThat(sink.exchanges.get(0).request().bodyPrefix()).hasSize(800);
    assertThat(sink.exchanges.get(0).request().bodyPrefixCut()).isFalse();
    assertThat(new String(sink.exchanges.get(1).request().bodyPrefix(), java.nio.charset.StandardCharsets.US_ASCII))
        .isEqualTo("b".repeat(200));
    assertThat(sink.exchanges.get(1).request().bodyPrefixCut()).isTrue();

    // a request still waiting when its connection closes gives its share back (reported unanswered)
    pipeline.onEvent(a.in("POST /c HTTP/1.1\nHost: h\nContent-Length: 300\n\n" + "c".repeat(300)));
    assertThat(budget.held()).isEqualTo(300);
    pipeline.onEvent(a.close());
    assertThat(budget.held()).isZero();
    assertThat(sink.exchanges).extracting(e -> e.request().target()).containsExactly("/a", "/b", "/c");
    // and so does one answered just before an upgrade (the session is left behind)
    pipeline.onEvent(b.in("POST /d HTTP/1.1\nHost: h\nContent-Length: 400\n\n" + "d".repeat(400)));
    pipeline.onEvent(b.in("GET /ws HTTP/1.1\nHost: h\nConnection: Upgrade\nUpgrade: websocket\n\n"));
    assertThat(budget.held()).isEqualTo(400);
    pipeline.onEvent(b.out("HTTP/1.1 200 OK\nContent-Length: 0\n\nHTTP/1.1 101 Switching Protocols\nConnection: Upgrade\nUpgrade: websocket\n\n"));
    assertThat(budget.held()).isZero();
  }

  /** Another way a waiting request leaves: its connection evicted for idleness. */
  @Test
  void aRequestBodyWaitingOnAnEvictedConnectionGivesItsBudgetBack() {
    var budget = new dev.spanwire.exporter.protocol.BodyBudget(1000);
    ConnectionTracker pipeline = new ConnectionTracker(sink,
        PairingSettings.immediate().withBodyCaptureBytes(4096).withIdleTimeout(Duration.ofSeconds(1)),
        new ProcessRegistry(proc), () -> clock, dev.spanwire.bpf.ConnectionTable.NONE,
        new dev.spanwire.exporter.counters.Counters(), dev.spanwire.exporter.protocol.Protocols.registered(), budget);
    EventScript idle = EventScript.server(1);
    pipeline.onEvent(idle.open(Role.SERVER));
    pipeline.onEvent(idle.in("POST /idle HTTP/1.1\nHost: h\nContent-Length: 300\n\n" + "i".repeat(300)));
    pipeline.afterBatch();
    assertThat(budget.held()).isEqualTo(300);
    clock = 60_000_000_000L; // a minute later: evicted, the request counted unpaired
    pipeline.afterBatch();
    assertThat(pipeline.stats().evictedConnections()).isEqualTo(1);
    assertThat(pipeline.stats().unpairedRequests()).isEqualTo(1);
    assertThat(budget.held()).isZero();
  }
}
