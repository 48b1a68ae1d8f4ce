package dev.spanwire.exporter.pipeline;

import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.HttpExchange;
import dev.spanwire.exporter.http1.Http1Error;
import dev.spanwire.exporter.http1.Http1Parser;
import dev.spanwire.exporter.http1.HttpMessage;
import java.util.ArrayDeque;

/**
 * One traced connection: each direction goes through a {@link StreamAssembler} into an
 * {@link Http1Parser}, and requests pair with responses in order (HTTP/1 answers in request order,
 * pipelined or not).
 *
 * <p>Loss never makes a wrong pair: after a gap in either direction the requests waiting for
 * answers are dropped (counted), and a response pairs again only with a request whose header
 * block was seen after the gap and before the response began. That holds when the client waits
 * for each response before the next request; a connection seen pipelining (a response began after
 * the next request's header block, or request bytes were lost while a complete request waited)
 * stops pairing at its first gap instead, since the answer to a lost pipelined request may begin
 * after the next visible one.
 *
 * <p>Owned by the pipeline thread.
 */
final class Connection {
  /** A request whose head was seen; {@code message} arrives when it completes. */
  private static final class Pending {
    final String method;
    final int tid;
    final long headNanos;
    HttpMessage message;

    Pending(String method, int tid, long headNanos) {
      this.method = method;
      this.tid = tid;
      this.headNanos = headNanos;
    }
  }

  private final PipelineStats stats;
  private final ExchangeSink sink;
  private final PipelineSettings settings;
  private ConnectionInfo info;
  private final StreamAssembler egress;
  private final StreamAssembler ingress;
  private final Http1Parser egressParser;
  private final Http1Parser ingressParser;
  private final ArrayDeque<Pending> requests = new ArrayDeque<>(2);
  private final ArrayDeque<HttpMessage> responses = new ArrayDeque<>(2);
  private Direction requestDirection;
  private final int[] lastTid = new int[2];
  private final long[] lastTimestamp = new long[2];
  /** After a gap: responses that began before this time answer dropped requests. */
  private long pairAfterNanos = Long.MIN_VALUE;
  private boolean awaitingFreshRequest;
  private boolean pipelined;
  private boolean pairingStopped;
  private boolean upgraded;
  long lastActivityNanos;
  /** Whether the pipeline has decided this connection is HTTP (ports or detection). */
  boolean decided;

  Connection(ConnectionInfo info, PipelineStats stats, ExchangeSink sink, PipelineSettings settings) {
    this.info = info;
    this.stats = stats;
    this.sink = sink;
    this.settings = settings;
    if (info.role() == Role.SERVER) {
      requestDirection = Direction.INGRESS;
    } else if (info.role() == Role.CLIENT) {
      requestDirection = Direction.EGRESS;
    }
    this.egressParser = parser(Direction.EGRESS);
    this.ingressParser = parser(Direction.INGRESS);
    this.egress = new StreamAssembler(new DirectionSink(egressParser, Direction.EGRESS), stats);
    this.ingress = new StreamAssembler(new DirectionSink(ingressParser, Direction.INGRESS), stats);
  }

  private Http1Parser parser(Direction direction) {
    Http1Parser.Mode mode =
        requestDirection == null
            ? Http1Parser.Mode.EITHER
            : requestDirection == direction ? Http1Parser.Mode.REQUESTS : Http1Parser.Mode.RESPONSES;
    return new Http1Parser(
        mode,
        new DirectionListener(direction),
        settings.keepHeaderLines(),
        settings.bodyCaptureBytes(),
        settings.maxHeadBytes());
  }

  ConnectionInfo info() {
    return info;
  }

  void onData(DataCaptured event) {
    int d = event.direction().ordinal();
    lastTid[d] = event.tid();
    lastTimestamp[d] = event.timestampNanos();
    lastActivityNanos = event.timestampNanos();
    (event.direction() == Direction.EGRESS ? egress : ingress).accept(event);
  }

  boolean hasPending() {
    return egress.hasPending() || ingress.hasPending();
  }

  /** End of a ring buffer batch: what is still missing is lost. */
  void flush() {
    egress.flush();
    ingress.flush();
  }

  /**
   * The connection closed: bodies delimited by close end, requests without answer are reported
   * as such.
   */
  void close(long timestampNanos) {
    flush();
    egressParser.close(timestampNanos);
    ingressParser.close(timestampNanos);
    while (!requests.isEmpty()) {
      Pending pending = requests.pollFirst();
      if (pending.message != null) {
        stats.unanswered++;
        sink.onExchange(new HttpExchange(info, pending.tid, pending.message, null));
      }
    }
    responses.clear();
  }

  /** Dropped without close (idle or table bound): nothing more is reported. */
  void evict() {
    stats.unpaired += requests.size() + responses.size();
    requests.clear();
    responses.clear();
  }

  private Http1Parser requestParser() {
    return requestDirection == Direction.EGRESS ? egressParser : ingressParser;
  }

  /** The first request direction seen decides the role when connect/accept did not. */
  private void learnRequestDirection(Direction direction) {
    if (requestDirection != null) {
      return;
    }
    requestDirection = direction;
    if (info.role() == Role.UNKNOWN) {
      info = info.withRole(direction == Direction.EGRESS ? Role.CLIENT : Role.SERVER);
    }
  }

  /** Whether a complete request waits for its answer: more request bytes now mean pipelining. */
  private boolean completeRequestUnanswered() {
    for (Pending pending : requests) {
      if (pending.message != null) {
        return true;
      }
    }
    return false;
  }

  private void lost(Direction direction) {
    if (direction == requestDirection && completeRequestUnanswered()) {
      pipelined = true; // the lost bytes were requests sent ahead of an answer
    }
    if (pipelined) {
      pairingStopped = true;
    }
    stats.resyncs++;
    stats.unpaired += requests.size() + responses.size();
    requests.clear();
    responses.clear();
    awaitingFreshRequest = true;
    pairAfterNanos = Long.MAX_VALUE;
  }

  private void pair() {
    while (!requests.isEmpty() && !responses.isEmpty() && requests.peekFirst().message != null) {
      Pending request = requests.pollFirst();
      HttpMessage response = responses.pollFirst();
      if (!requests.isEmpty() && requests.peekFirst().headNanos < response.startNanos()) {
        pipelined = true; // the next request was out before this answer began
      }
      stats.exchanges++;
      if (info.role() == Role.SERVER) {
        stats.serverExchanges++;
      } else {
        stats.clientExchanges++;
      }
      sink.onExchange(new HttpExchange(info, request.tid, request.message, response));
    }
  }

  /** Feeds one direction's parser with the assembled stream. */
  private final class DirectionSink implements StreamAssembler.Sink {
    private final Http1Parser parser;
    private final Direction direction;

    DirectionSink(Http1Parser parser, Direction direction) {
      this.parser = parser;
      this.direction = direction;
    }

    @Override
    public void onBytes(byte[] data, int offset, int length, long position, long timestampNanos) {
      stats.bytesCaptured += length;
      parser.feed(data, offset, length, position, timestampNanos);
    }

    @Override
    public void onSkipped(long count, long position, long timestampNanos) {
      parser.skip(count, position, timestampNanos);
    }

    @Override
    public void onGap(long count, long position, long timestampNanos) {
      parser.gap(count, position, timestampNanos);
      if (!upgraded) {
        lost(direction);
      }
    }
  }

  /** Pairs what one direction's parser reports. */
  private final class DirectionListener implements Http1Parser.Listener {
    private final Direction direction;

    DirectionListener(Direction direction) {
      this.direction = direction;
    }

    @Override
    public Http1Parser.HeadAction onRequestHead(String method) {
      learnRequestDirection(direction);
      if (direction != requestDirection) {
        return Http1Parser.HeadAction.BODY; // dropped when complete
      }
      if (pairingStopped) {
        return Http1Parser.HeadAction.BODY; // dropped when complete
      }
      if (requests.size() >= settings.maxPipelined()) {
        requests.pollFirst();
        stats.droppedPipelined++;
      }
      requests.addLast(new Pending(method, lastTid[direction.ordinal()], lastTimestamp[direction.ordinal()]));
      if (awaitingFreshRequest) {
        awaitingFreshRequest = false;
        pairAfterNanos = lastTimestamp[direction.ordinal()];
      }
      return Http1Parser.HeadAction.BODY;
    }

    @Override
    public Http1Parser.HeadAction onResponseHead(int statusCode) {
      learnRequestDirection(direction == Direction.EGRESS ? Direction.INGRESS : Direction.EGRESS);
      // the request this response answers comes after those whose responses wait for them
      Pending answered = null;
      int index = 0;
      for (Pending pending : requests) {
        if (index++ == responses.size()) {
          answered = pending;
          break;
        }
      }
      if (answered == null) {
        return Http1Parser.HeadAction.BODY;
      }
      if (answered.method.equals("HEAD")) {
        return Http1Parser.HeadAction.NO_BODY;
      }
      if (answered.method.equals("CONNECT") && statusCode >= 200 && statusCode < 300) {
        return Http1Parser.HeadAction.UPGRADE;
      }
      return Http1Parser.HeadAction.BODY;
    }

    @Override
    public void onMessage(HttpMessage message) {
      if (message.request()) {
        if (direction != requestDirection || pairingStopped) {
          stats.unpaired++;
          return;
        }
        for (Pending pending : requests) {
          if (pending.message == null) {
            pending.message = message;
            stats.requests++;
            sink.onRequest(info, message);
            break;
          }
        }
        pair();
        return;
      }
      int status = message.statusCode();
      if (status >= 100 && status < 200 && status != 101) {
        return; // interim: the final response follows
      }
      stats.responses++;
      if (pairingStopped
          || awaitingFreshRequest
          || message.startNanos() < pairAfterNanos
          || responses.size() >= requests.size()) {
        // answers a request lost with captured bytes, or none at all
        stats.unpaired++;
        return;
      }
      responses.addLast(message);
      Http1Parser requestParser = requestParser();
      if (!ingressParser.isUpgraded() && !egressParser.isUpgraded() && requestParser.isUpgradePending()) {
        requestParser.resume();
      }
      pair();
    }

    @Override
    public void onError(Http1Error error) {
      stats.parseErrors++;
      stats.resyncs++;
      if (direction == requestDirection && !requests.isEmpty() && requests.peekLast().message == null) {
        requests.pollLast();
      }
    }

    @Override
    public void onUpgrade() {
      if (upgraded) {
        return;
      }
      upgraded = true;
      stats.upgrades++;
      // both directions leave HTTP/1 together
      egressParser.upgrade();
      ingressParser.upgrade();
    }
  }

  @Override
  public String toString() {
    return "Connection{" + info.id() + " " + info.role() + " " + info.local() + " <-> " + info.remote()
        + ", waiting " + requests.size() + "/" + responses.size() + (upgraded ? ", upgraded" : "") + "}";
  }
}
