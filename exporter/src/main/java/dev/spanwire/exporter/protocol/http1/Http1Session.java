package dev.spanwire.exporter.protocol.http1;

import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.protocol.BodyBudget;
import dev.spanwire.exporter.protocol.ProtocolSession;
import dev.spanwire.exporter.protocol.ProtocolStats;
import dev.spanwire.exporter.protocol.SessionContext;
import java.util.ArrayDeque;

/**
 * HTTP/1 on one connection: each direction's stream goes through an {@link Http1Parser}, and
 * requests pair with responses in order (HTTP/1 answers in request order, pipelined or not).
 *
 * <p>Loss never makes a wrong pair. The rule:
 *
 * <ul>
 *   <li>When the <em>response</em> stream loses its place (bytes lost in the kernel, bytes moved
 *       uncaptured past a message, a response the parser refuses), the lost bytes may answer any
 *       request waiting: all of them are dropped and counted.
 *   <li>When the <em>request</em> stream loses its place, the requests already seen keep their
 *       order and pair with the next responses; after them comes an unknown number of requests.
 *   <li>From such a point pairing is <em>unsynchronised</em>: a response pairs only with a request
 *       seen after the loss, and only when it began after that request's header block (a client
 *       sends its next request only once it has its answer, so an answer that began earlier is an
 *       answer to something lost). A connection seen pipelining stops pairing at its first loss
 *       instead, since there that reasoning fails. A request still unanswered when later request
 *       bytes were lost counts as pipelining once its answer arrives after them; if the response
 *       stream lost bytes too (ring-buffer loss takes both directions) it is dropped instead, and
 *       the connection is not taken for a pipelining one.
 *   <li>Causality is checked on every pair: a response that began before its request's header
 *       block answers a request never seen (a connection joined mid-stream); it is dropped and
 *       pairing unsynchronises. A response seen before its request (a client whose reader thread
 *       ran ahead of its writer) waits for it.
 *   <li>Past {@code maxPipelined} waiting requests the oldest is dropped (counted) but its place
 *       is kept, so its answer is recognised and discarded rather than paired with the next.
 * </ul>
 *
 * <p>The role the kernel reported (connect: client, accept: server) is a hint; the first message
 * decides which direction carries requests. An upgrade (101, CONNECT 2xx, the HTTP/2 preface)
 * hands the connection to the next protocol. Owned by the pipeline thread.
 */
final class Http1Session implements ProtocolSession {
  /** Requests a connection keeps in place (dropped ones included) before it gives up pairing. */
  static final int MAX_TRACKED_REQUESTS = 4096;

  /** A request whose head was seen; {@code message} arrives when it completes. */
  private static final class Pending {
    final String method;
    final int tid;
    final long headNanos;
    HttpMessage message;
    /** Dropped past the pipelining bound (counted): its answer is discarded. */
    boolean dropped;
    /** Complete and unanswered when later request bytes were lost: answered later, it was pipelined. */
    boolean waitedThroughLoss;
    /** Budget bytes its body prefix holds while it waits (given back when it leaves the queue). */
    int bodyBudget;

    Pending(String method, int tid, long headNanos) {
      this.method = method;
      this.tid = tid;
      this.headNanos = headNanos;
    }
  }

  /** Stands in the request queue for requests lost with the request stream's place. */
  private static final Pending LOST_REQUESTS = new Pending("", 0, Long.MIN_VALUE);

  /** A complete response waiting for its request. */
  private record Answer(HttpMessage message, boolean framedBlind) {}

  private final SessionContext context;
  private final ProtocolStats stats;
  private final int maxPipelined;
  private final Http1Parser egressParser;
  private final Http1Parser ingressParser;
  private final ArrayDeque<Pending> requests = new ArrayDeque<>(2);
  private final BodyBudget bodies;
  private final ArrayDeque<Answer> responses = new ArrayDeque<>(2);
  private Direction requestDirection;
  /** Whether the next response answers the first waiting request (see the class comment). */
  private boolean synced;
  /** Whether the response under way was framed before its request was known. */
  private boolean framingBlind;
  private boolean pipelined;
  private boolean pairingStopped;
  private boolean upgraded;
  /** The request a 101 to h2c answered: HTTP/2 answers it on stream 1. */
  private HttpMessage handedOver;
  private String lastRequestMethod = "";

  /**
   * @param joinedMidStream the capture met the connection after its start: the first response may
   *     answer a request never seen, so pairing starts unsynchronised
   */
  Http1Session(SessionContext context, boolean joinedMidStream) {
    this.context = context;
    this.stats = context.stats();
    this.maxPipelined = context.settings().maxPipelined();
    this.bodies = context.settings().bodies();
    this.synced = !joinedMidStream;
    // the first message decides the direction; the kernel's role only names the connection until then
    this.egressParser = parser(Direction.EGRESS);
    this.ingressParser = parser(Direction.INGRESS);
  }

  private Http1Parser parser(Direction direction) {
    var settings = context.settings();
    return new Http1Parser(
        Http1Parser.Mode.EITHER, new DirectionListener(direction), settings.headers(), settings.bodyCaptureBytes(),
        settings.maxHeadBytes(), settings.bodies());
  }

  private Http1Parser parser(Direction direction, boolean unused) {
    return direction == Direction.EGRESS ? egressParser : ingressParser;
  }

  @Override
  public int onBytes(Direction direction, byte[] data, int offset, int length, long position, long timestampNanos) {
    return parser(direction, true).feed(data, offset, length, position, timestampNanos);
  }

  @Override
  public void onSkipped(Direction direction, long count, long position, long timestampNanos) {
    parser(direction, true).skip(count, position, timestampNanos);
  }

  @Override
  public void onGap(Direction direction, long count, long position, long timestampNanos) {
    parser(direction, true).gap(count, position, timestampNanos);
  }

  @Override
  public void onClose(long timestampNanos) {
    egressParser.close(timestampNanos);
    ingressParser.close(timestampNanos);
    reportWaiting();
    releaseBodies();
  }

  @Override
  public void onStop() {
    requestParser().cut();
    responseParser().cut();
    reportWaiting();
    releaseBodies();
  }

  @Override
  public void onEvict() {
    dropWaiting();
    releaseBodies();
  }

  private void releaseBodies() {
    egressParser.releaseBody();
    ingressParser.releaseBody();
  }

  private void reportWaiting() {
    stats.unpaired.add(responses.size());
    responses.clear();
    for (Pending pending : requests) {
      letGo(pending);
      if (pending == LOST_REQUESTS || pending.dropped) {
        continue;
      }
      if (pending.message != null && !pairingStopped) {
        stats.unanswered.increment();
        context.exchange(exchange(pending, null));
      } else {
        unpairedRequest();
      }
    }
    requests.clear();
  }

  /** The parser of the response direction (ingress until the first message says otherwise). */
  private Http1Parser responseParser() {
    return requestDirection == Direction.EGRESS ? ingressParser : egressParser;
  }

  private Http1Parser requestParser() {
    return requestDirection == Direction.EGRESS ? egressParser : ingressParser;
  }

  /** The first message decides which direction carries requests, and so the role. */
  private void learnRequestDirection(Direction direction) {
    if (requestDirection != null) {
      return;
    }
    requestDirection = direction;
    context.learnRole(direction == Direction.EGRESS ? Role.CLIENT : Role.SERVER);
    requestParser().setMode(Http1Parser.Mode.REQUESTS);
    responseParser().setMode(Http1Parser.Mode.RESPONSES);
  }

  /** A request dropped because loss made its answer unknowable. */
  private void unpairedRequest() {
    stats.unpaired.increment();
    stats.unpairedRequests.increment();
  }

  /** Counts and forgets every waiting request and response. */
  private void dropWaiting() {
    for (Pending pending : requests) {
      letGo(pending);
      if (pending != LOST_REQUESTS && !pending.dropped) {
        unpairedRequest();
      }
    }
    stats.unpaired.add(responses.size());
    requests.clear();
    responses.clear();
  }

  /** A request leaves the queue: its body prefix's budget bytes go back. */
  private void letGo(Pending pending) {
    bodies.give(pending.bodyBudget);
    pending.bodyBudget = 0;
  }

  /** A direction lost its place: see the class comment. */
  private void lost(Direction direction) {
    if (upgraded) {
      return;
    }
    stats.resyncs.increment();
    if (direction == requestDirection) {
      // request bytes went on while a complete request waited (the last one does not count when
      // its own end was cut, since the lost bytes may be that end): pipelining, if its answer
      // comes after this. Its answer may also have been lost with them — loss in the ring buffer
      // takes both directions, and the response stream's gap shows only at its next event, when
      // it drops the waiting requests — so a client that waits for each answer is not taken for
      // a pipelining one (which would stop its pairing for good)
      Pending last = requests.peekLast();
      for (Pending pending : requests) {
        if (pending != LOST_REQUESTS && pending.message != null && !(pending == last && pending.message.truncated())) {
          pending.waitedThroughLoss = true;
        }
      }
      if (last != LOST_REQUESTS) {
        // a request whose head was seen but not its end cannot be told from what was lost
        if (last != null && last.message == null) {
          requests.pollLast();
          if (!last.dropped) {
            unpairedRequest();
          }
        }
        requests.addLast(LOST_REQUESTS);
      }
      pair();
      return;
    }
    // the response stream: any waiting request may have been answered in the lost bytes
    dropWaiting();
    unsynchronise();
  }

  private void unsynchronise() {
    synced = false;
    if (pipelined) {
      pairingStopped = true;
    }
  }

  private void pair() {
    while (!responses.isEmpty() && !pairingStopped) {
      Answer answer = responses.peekFirst();
      HttpMessage response = answer.message();
      Pending request = requests.peekFirst();
      if (request == LOST_REQUESTS) {
        requests.pollFirst();
        unsynchronise();
        continue;
      }
      if (request == null) {
        if (synced) {
          break; // its request may still come (a reader thread ahead of the writer)
        }
        responses.pollFirst();
        stats.unpaired.increment(); // answers a request lost before
        continue;
      }
      if (response.startNanos() < request.headNanos) {
        // began before the request was out: answers one never seen
        responses.pollFirst();
        stats.unpaired.increment();
        if (synced) {
          stats.resyncs.increment();
          unsynchronise();
        }
        continue;
      }
      if (request.message == null) {
        break; // the request's body is still arriving
      }
      if (answer.framedBlind() && specialFraming(request.method, response.statusCode())) {
        // framed as if its body followed the head, which this request's method rules out
        responseParser().loseSync(response.endNanos());
        return;
      }
      requests.pollFirst();
      responses.pollFirst();
      letGo(request);
      synced = true;
      if (request.waitedThroughLoss) {
        pipelined = true; // answered after later requests were out
      }
      if (request.dropped) {
        continue; // counted when it was dropped
      }
      if (response.statusCode() == 101 && responseParser().lastUpgradeH2c()) {
        handedOver = request.message; // its answer is HTTP/2's stream 1, not the 101
        continue;
      }
      Pending next = requests.peekFirst();
      if (next != null && next != LOST_REQUESTS && next.headNanos < response.startNanos()) {
        pipelined = true; // the next request was out before this answer began
      }
      stats.exchanges.increment();
      if (context.connection().role() == Role.SERVER) {
        stats.serverExchanges.increment();
      } else {
        stats.clientExchanges.increment();
      }
      context.exchange(exchange(request, response));
    }
    if (pairingStopped) {
      dropWaiting();
    }
  }

  private Exchange exchange(Pending request, HttpMessage response) {
    return new Exchange(context.connection(), request.tid, "HTTP", request.message.flavor(), -1,
        request.message, response, context.ids(request.message));
  }

  /** Whether a response to this method and status has framing its headers do not tell. */
  private static boolean specialFraming(String method, int status) {
    return method.equals("HEAD") || (method.equals("CONNECT") && status >= 200 && status < 300);
  }

  /** The request a response whose head just completed answers, or null when it is not known. */
  private Pending answeredBy() {
    int index = 0;
    for (Pending pending : requests) {
      if (pending == LOST_REQUESTS) {
        return null;
      }
      if (index++ == responses.size()) {
        return pending;
      }
    }
    return null;
  }

  /** Keeps a new request's place, dropping the oldest kept in full past the bound. */
  private void addRequest(Pending pending) {
    int full = 0;
    Pending oldest = null;
    for (Pending p : requests) {
      if (p != LOST_REQUESTS && !p.dropped) {
        full++;
        if (oldest == null) {
          oldest = p;
        }
      }
    }
    if (full >= maxPipelined) {
      oldest.dropped = true;
      stats.droppedPipelined.increment();
    }
    requests.addLast(pending);
    if (requests.size() > MAX_TRACKED_REQUESTS) {
      // too many to keep in place: nothing on this connection can be paired with certainty
      pipelined = true;
      pairingStopped = true;
      stats.resyncs.increment();
      dropWaiting();
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
      if (direction != requestDirection || pairingStopped) {
        unpairedRequest(); // its end is parsed for framing, then dropped
        return Http1Parser.HeadAction.BODY;
      }
      lastRequestMethod = method;
      addRequest(new Pending(method, context.lastTid(direction), context.lastTimestamp(direction)));
      return Http1Parser.HeadAction.BODY;
    }

    @Override
    public void onBodyAhead(long end) {
      context.skipUntil(direction, end);
    }

    @Override
    public Http1Parser.HeadAction onResponseHead(int statusCode) {
      learnRequestDirection(direction == Direction.EGRESS ? Direction.INGRESS : Direction.EGRESS);
      Pending answered = answeredBy();
      framingBlind = answered == null;
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
        int budget = parser(direction, true).takeRequestBodyBudget();
        if (direction != requestDirection || pairingStopped) {
          bodies.give(budget);
          return; // counted at its head, or when pairing stopped
        }
        Pending waiting = null;
        for (Pending pending : requests) {
          if (pending != LOST_REQUESTS && pending.message == null) {
            waiting = pending;
            break;
          }
        }
        if (waiting == null) {
          bodies.give(budget);
        } else {
          waiting.message = message;
          waiting.bodyBudget = budget;
          stats.requests.increment();
          if (!waiting.dropped) {
            context.request(message.flavor(), message);
          }
        }
        pair();
        return;
      }
      int status = message.statusCode();
      if (status >= 100 && status < 200 && status != 101) {
        return; // interim: the final response follows
      }
      stats.responses.increment();
      if (pairingStopped) {
        stats.unpaired.increment();
        return;
      }
      responses.addLast(new Answer(message, framingBlind));
      if (responses.size() > maxPipelined) {
        // answers to nothing seen pile up: the request stream is not what it seems
        lost(responseDirection());
        return;
      }
      Http1Parser requestParser = requestParser();
      if (!ingressParser.isUpgraded() && !egressParser.isUpgraded() && requestParser.isUpgradePending()) {
        requestParser.resume();
      }
      pair();
    }

    private Direction responseDirection() {
      return requestDirection == Direction.EGRESS ? Direction.INGRESS : Direction.EGRESS;
    }

    @Override
    public void onError(Http1Error error) {
      stats.parseErrors.increment();
    }

    @Override
    public void onLost(long timestampNanos) {
      if (requestDirection == null) {
        // nothing parsed yet, so nothing waits; the first message still decides the direction
        stats.resyncs.increment();
        synced = false;
        return;
      }
      lost(direction);
    }

    @Override
    public void onUpgrade() {
      // the HTTP/2 connection preface, or whatever a 101 or a CONNECT leads to
      String next = lastRequestMethod.equals("PRI") ? "h2" : handedOver != null ? "h2c" : "tunnel";
      if (upgraded) {
        return;
      }
      upgraded = true;
      // both directions leave HTTP/1 together
      egressParser.upgrade();
      ingressParser.upgrade();
      // this session is left behind: what it holds of the body budget goes back now
      for (Pending pending : requests) {
        letGo(pending);
      }
      releaseBodies();
      context.switchProtocol(next, handedOver);
    }
  }

  @Override
  public String toString() {
    return "Http1Session{waiting " + requests.size() + "/" + responses.size() + (upgraded ? ", upgraded" : "")
        + (synced ? "" : ", unsynchronised") + (pairingStopped ? ", pairing stopped" : "") + "}";
  }
}
