package dev.spanwire.exporter.connection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.Exchange;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whatever either direction loses, no response is paired with a request it does not answer, and
 * every request or response left without its pair is counted. Expected pairs are written out as
 * literals from the script: the n-th request is answered by the n-th response.
 */
class PairingAfterLossTest {
  @TempDir Path proc;

  private final RecordingSink sink = new RecordingSink();

  private ConnectionTracker pipeline(PipelineSettings settings) {
    return new ConnectionTracker(sink, settings, new ProcessRegistry(proc), () -> 0);
  }

  private ConnectionTracker pipeline() {
    return pipeline(PairingSettings.immediate());
  }

  private PipelineStats stats(ConnectionTracker pipeline) {
    pipeline.afterBatch();
    return pipeline.stats();
  }

  /** Responses the strict parser refuses (each a real framing ambiguity), answering GET /b. */
  @ParameterizedTest
  @ValueSource(strings = {
    "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
    "HTTP/1.1 404 Not Found\nContent-Length: 1\n\nx",
    "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
  })
  void refusedResponseInAKeepAliveConnectionShiftsNoLaterPair(String malformed) {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET /a HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(s.in("GET /b HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.data(Direction.EGRESS, malformed.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)));
    pipeline.onEvent(s.in("GET /c HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 500 Internal Server Error\nContent-Length: 0\n\n"));
    pipeline.onEvent(s.in("DELETE /d HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 204 No Content\n\n"));

    assertThat(sink.summary()).containsExactly("GET /a -> 200", "GET /c -> 500", "DELETE /d -> 204");
    PipelineStats stats = stats(pipeline);
    assertThat(stats.parseErrors()).isEqualTo(1);
    assertThat(stats.unpaired()).as("GET /b, whose answer was refused").isEqualTo(1);
    assertThat(stats.exchanges()).isEqualTo(3);
  }

  @Test
  void pipelinedAnswerInUncapturedBytesDropsTheRequestsItMayAnswer() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET /1 HTTP/1.1\nHost: h\n\nGET /2 HTTP/1.1\nHost: h\n\nGET /3 HTTP/1.1\nHost: h\n\n"));
    // one write answers /1 and /2, but only the first answer was captured
    byte[] first = EventScript.http("HTTP/1.1 200 OK\nContent-Length: 1\n\na");
    byte[] both = EventScript.http("HTTP/1.1 200 OK\nContent-Length: 1\n\naHTTP/1.1 404 Not Found\nContent-Length: 0\n\n");
    pipeline.onEvent(s.truncated(Direction.EGRESS, both, first.length));
    pipeline.onEvent(s.out("HTTP/1.1 500 Internal Server Error\nContent-Length: 0\n\n"));
    pipeline.onEvent(s.in("GET /4 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 201 Created\nContent-Length: 0\n\n"));

    assertThat(sink.summary()).containsExactly("GET /1 -> 200");
    PipelineStats stats = stats(pipeline);
    // /2 and /3 were waiting when the answers were lost; the 500, GET /4 and the 201 come after the
    // loss on a connection seen pipelining, where no answer can be placed with certainty
    assertThat(stats.unpaired()).isEqualTo(5);
    assertThat(stats.skippedBytes()).isEqualTo(both.length - first.length);
  }

  @Test
  void aClientThatWaitsForEachAnswerIsNotTakenForAPipeliningOneWhenLossTakesBothDirections() {
    // ring-buffer loss: /1's answer, /2 and its answer lost. When /3 shows the request stream's
    // gap, /1 still waits: pipelining only if its answer comes after, and here the answer stream
    // lost bytes too. Taken for pipelining, the connection stopped pairing for good.
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.client(1);
    pipeline.onEvent(s.open(Role.CLIENT));
    pipeline.onEvent(s.out("GET /1 HTTP/1.1\nHost: h\n\n"));
    s.lose(Direction.INGRESS, 38);
    s.lose(Direction.EGRESS, "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n".length());
    s.lose(Direction.INGRESS, 38);
    pipeline.onEvent(s.out("GET /3 HTTP/1.1\nHost: h\n\n"));
    pipeline.afterBatch();
    pipeline.onEvent(s.in("HTTP/1.1 201 Created\nContent-Length: 0\n\n"));
    pipeline.afterBatch();
    pipeline.onEvent(s.out("GET /4 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.in("HTTP/1.1 202 Accepted\nContent-Length: 0\n\n"));
    pipeline.onEvent(s.out("GET /5 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.in("HTTP/1.1 203 OK\nContent-Length: 0\n\n"));
    pipeline.afterBatch();

    assertThat(sink.summary()).containsExactly("GET /4 -> 202", "GET /5 -> 203");
    assertThat(stats(pipeline).unpaired()).as("/1, /3 and the answer after the gap").isEqualTo(3);
  }

  @Test
  void answerInUncapturedBytesOfAnOrdinaryConnectionResumesAtTheNextRequest() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.client(1);
    pipeline.onEvent(s.open(Role.CLIENT));
    pipeline.onEvent(s.out("GET /1 HTTP/1.1\nHost: h\n\n"));
    byte[] answer = EventScript.http("HTTP/1.1 200 OK\nContent-Length: 2\n\nok");
    byte[] extra = EventScript.http("HTTP/1.1 200 OK\nContent-Length: 2\n\nokHTTP/1.1 200 OK\nContent-Length: 0\n\n");
    pipeline.onEvent(s.truncated(Direction.INGRESS, extra, answer.length)); // an answer nobody asked for hides in the tail
    pipeline.onEvent(s.out("GET /2 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.in("HTTP/1.1 202 Accepted\nContent-Length: 0\n\n"));

    assertThat(sink.summary()).containsExactly("GET /1 -> 200", "GET /2 -> 202");
    assertThat(stats(pipeline).resyncs()).isEqualTo(1);
  }

  @Test
  void answerReadBeforeItsRequestWriteArrivesPairsWithIt() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.client(1);
    pipeline.onEvent(s.open(Role.CLIENT));
    // the writer thread's event reaches the ring buffer after the reader thread's
    DataCaptured request = s.out("GET /1 HTTP/1.1\nHost: h\n\n");
    DataCaptured response = s.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n");
    pipeline.onEvent(response);
    pipeline.onEvent(request);
    pipeline.onEvent(s.out("GET /2 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.in("HTTP/1.1 201 Created\nContent-Length: 0\n\n"));

    assertThat(sink.summary()).containsExactly("GET /1 -> 200", "GET /2 -> 201");
    assertThat(stats(pipeline).unpaired()).isZero();
  }

  @Test
  void headAnswerReadBeforeItsRequestIsNotFramedWithABody() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.client(1);
    pipeline.onEvent(s.open(Role.CLIENT));
    DataCaptured request = s.out("HEAD /1 HTTP/1.1\nHost: h\n\n");
    DataCaptured response = s.in("HTTP/1.1 200 OK\nContent-Length: 36\n\n");
    pipeline.onEvent(response); // framed blind: 36 body bytes expected
    pipeline.onEvent(request);
    pipeline.onEvent(s.out("GET /2 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.in("HTTP/1.1 201 Created\nContent-Length: 0\n\n")); // 36 bytes
    pipeline.onEvent(s.out("GET /3 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.in("HTTP/1.1 202 Accepted\nContent-Length: 0\n\n"));

    // 201 swallowed as the HEAD answer's body must never become the answer of /3
    assertThat(sink.summary()).doesNotContain("GET /2 -> 202", "HEAD /1 -> 200");
    assertThat(sink.summary()).containsExactly("GET /3 -> 202");
  }

  @Test
  void pipelinedBurstBeyondTheBoundKeepsEveryAnswerInItsPlace() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    StringBuilder burst = new StringBuilder();
    for (int i = 0; i < 70; i++) {
      burst.append("GET /r").append(i).append(" HTTP/1.1\nHost: h\n\n");
    }
    pipeline.onEvent(s.in(burst.toString()));
    for (int i = 0; i < 70; i++) {
      pipeline.onEvent(s.out("HTTP/1.1 " + (200 + i) + " R" + i + "\nContent-Length: 0\n\n"));
    }

    List<String> expected = new ArrayList<>();
    for (int i = 6; i < 70; i++) {
      expected.add("GET /r" + i + " -> " + (200 + i)); // the oldest six were dropped at the bound of 64
    }
    assertThat(sink.summary()).containsExactlyElementsOf(expected);
    PipelineStats stats = stats(pipeline);
    assertThat(stats.droppedPipelined()).isEqualTo(6);
    assertThat(stats.unpaired()).isZero();
  }

  @Test
  void answerToARequestNeverSeenIsNotPairedWithTheNextOne() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    // joined while an answer was under way: its request was never captured
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(s.in("GET /x HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(s.out("HTTP/1.1 201 Created\nContent-Length: 0\n\n"));

    assertThat(sink.summary()).containsExactly("GET /x -> 201");
    assertThat(stats(pipeline).unpaired()).isEqualTo(1);
  }

  @Test
  void firstMessageDecidesTheRoleOverTheKernelsGuess() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.client(1);
    pipeline.onEvent(s.open(Role.CLIENT)); // connected out...
    pipeline.onEvent(s.in("GET /served HTTP/1.1\nHost: h\n\n")); // ...then served HTTP on it
    pipeline.onEvent(s.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));

    assertThat(sink.summary()).containsExactly("GET /served -> 200");
    Exchange exchange = sink.exchanges.getFirst();
    assertThat(exchange.role()).isEqualTo(Role.SERVER);
    assertThat(stats(pipeline).parseErrors()).isZero();
  }

  @Test
  void finalAnswerLostInTheKernelIsCountedNotBlamedOnTheServer() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.client(1);
    pipeline.onEvent(s.open(Role.CLIENT));
    pipeline.onEvent(s.out("GET /a HTTP/1.1\nHost: h\n\n"));
    s.lose(Direction.INGRESS, 38); // its answer, lost in the ring buffer
    pipeline.onEvent(s.close()); // the close event's totals say 38 bytes came in

    assertThat(sink.exchanges).isEmpty();
    PipelineStats stats = stats(pipeline);
    assertThat(stats.unanswered()).isZero();
    assertThat(stats.unpaired()).isEqualTo(1);
    assertThat(stats.gaps()).isEqualTo(1);
    assertThat(stats.gapBytes()).isEqualTo(38);
  }

  @Test
  void closeDelimitedBodyWithALostTailIsMarkedTruncated() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET / HTTP/1.0\n\n"));
    pipeline.onEvent(s.out("HTTP/1.0 200 OK\n\nfirst part"));
    s.lose(Direction.EGRESS, 500);
    pipeline.onEvent(s.close());

    assertThat(sink.summary()).containsExactly("GET / -> 200");
    Exchange exchange = sink.exchanges.getFirst();
    assertThat(exchange.response().truncated()).isTrue();
    assertThat(exchange.response().bodyBytes()).isEqualTo(10);
    assertThat(stats(pipeline).gapBytes()).isEqualTo(500);
  }

  @Test
  void closeDelimitedBodyEndsAtItsLastByteNotAtALingeringClose() {
    ConnectionTracker pipeline = pipeline();
    EventScript s = EventScript.server(1);
    pipeline.onEvent(s.open(Role.SERVER));
    pipeline.onEvent(s.in("GET / HTTP/1.0\n\n"));
    DataCaptured body = s.out("HTTP/1.0 200 OK\n\nall of it");
    pipeline.onEvent(body);
    pipeline.onEvent(s.closeAfter(30_000_000_000L)); // a client that lingers 30 s before close()

    assertThat(sink.exchanges).hasSize(1);
    assertThat(sink.exchanges.getFirst().endNanos()).isEqualTo(body.timestampNanos());
  }
}
