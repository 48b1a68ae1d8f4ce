package dev.spanwire.exporter.connection;

import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.ConnectionTable;
import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.OpaqueConnection;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.exchange.Request;
import dev.spanwire.exporter.exchange.SpanIds;
import dev.spanwire.exporter.trace.SpanIdentities;
import dev.spanwire.exporter.protocol.OpaqueSession;
import dev.spanwire.exporter.protocol.Protocol;
import dev.spanwire.exporter.protocol.ProtocolSession;
import dev.spanwire.exporter.protocol.ProtocolSettings;
import dev.spanwire.exporter.protocol.ProtocolStats;
import dev.spanwire.exporter.protocol.Protocols;
import dev.spanwire.exporter.protocol.SessionContext;

/**
 * One traced connection: its identity (tuple, role, process), its activity, each direction's
 * {@link StreamAssembler}, and the protocol session its bytes go to once detection chose one.
 * The session reports through this connection (its {@link SessionContext}); an upgrade swaps the
 * session. Owned by the pipeline thread.
 */
final class Connection implements SessionContext {
  private final ConnectionStats stats;
  private final ProtocolStats protocolStats;
  private final ProtocolSettings protocolSettings;
  private final Protocols protocols;
  private final SpanIdentities identities;
  private final ExchangeSink sink;
  private ConnectionInfo info;
  private StreamAssembler egress;
  private StreamAssembler ingress;
  private ProtocolSession session;
  private static final int MAX_DECIDED = 4096;
  /** Ids decided when requests completed, until their exchanges take them. */
  private final DecidedIds idsByRequest = new DecidedIds();
  private final java.util.HashMap<Long, SpanIds> idsByStream = new java.util.HashMap<>();
  /** This connection's server exchanges whose responses are not complete, oldest first. */
  private final java.util.List<SpanIds> openServer = new java.util.ArrayList<>();
  /** The request handed over while the next protocol's session opens. */
  private dev.spanwire.exporter.exchange.Request handedOver;
  /** Whether TLS plaintext was seen: its streams (positions of their own) replace the socket's. */
  private boolean tls;
  /**
   * Whether its first bytes were a TLS handshake (the kernel sends no ciphertext): until a TLS
   * library's plaintext arrives, all there is to report is the connection itself.
   */
  boolean cipherOnly;
  long openedNanos;
  private final boolean joinedMidStream;
  private final int[] lastTid = new int[2];
  private final long[] lastTimestamp = new long[2];
  long lastActivityNanos;
  /** Whether the pipeline has decided what this connection speaks (ports or detection). */
  boolean decided;
  /** Bytes of a start held while too few to tell the protocol; at this many it is decided. */
  static final int MAX_HELD_START = 1024;
  /** The first events of one direction, held while their bytes are too few to decide on. */
  private java.util.List<DataCaptured> heldStart = java.util.List.of();
  private int heldStartBytes;

  /** The bytes to decide on: those held in the event's direction, then its payload. */
  byte[] startWith(DataCaptured data) {
    if (heldStart.isEmpty() || heldStart.getFirst().direction() != data.direction()) {
      return data.payload();
    }
    byte[] start = new byte[heldStartBytes + data.payload().length];
    int at = 0;
    for (DataCaptured held : heldStart) {
      System.arraycopy(held.payload(), 0, start, at, held.payload().length);
      at += held.payload().length;
    }
    System.arraycopy(data.payload(), 0, start, at, data.payload().length);
    return start;
  }

  /** Whether this event may wait with those held: they are all of one direction. */
  boolean mayHold(DataCaptured data) {
    return heldStart.isEmpty() || heldStart.getFirst().direction() == data.direction();
  }

  void holdStart(DataCaptured data) {
    if (heldStart.isEmpty()) {
      heldStart = new java.util.ArrayList<>(4);
      heldStartBytes = 0;
    }
    heldStart.add(data);
    heldStartBytes += data.payload().length;
  }

  /** The held events, in the order they came, now to be delivered; none are held after. */
  java.util.List<DataCaptured> takeHeldStart() {
    java.util.List<DataCaptured> held = heldStart;
    heldStart = java.util.List.of();
    heldStartBytes = 0;
    return held;
  }
  /** The traced process's fd, the socket's inode number (0 when unknown), and its kernel key. */
  int fd = -1;
  long ino;
  long key;
  /** The kernel's table, told of bodies the sessions skip. */
  ConnectionTable kernelTable = ConnectionTable.NONE;

  /**
   * @param joinedMidStream the capture met the connection after its start: its sessions start
   *     unsynchronised
   */
  Connection(
      ConnectionInfo info, ConnectionStats stats, ProtocolStats protocolStats, ProtocolSettings protocolSettings,
      Protocols protocols, SpanIdentities identities, ExchangeSink sink, boolean joinedMidStream) {
    this.info = info;
    this.stats = stats;
    this.protocolStats = protocolStats;
    this.protocolSettings = protocolSettings;
    this.protocols = protocols;
    this.identities = identities;
    this.sink = sink;
    this.joinedMidStream = joinedMidStream;
    this.egress = new StreamAssembler(new DirectionSink(Direction.EGRESS), stats);
    this.ingress = new StreamAssembler(new DirectionSink(Direction.INGRESS), stats);
    if (info.role() == Role.CLIENT && !joinedMidStream) {
      identities.clientOpened(info.id(), info.local());
    }
    identities.localEnd(info.local());
  }

  ConnectionInfo info() {
    return info;
  }

  /**
   * A TLS library's plaintext arrived: the ciphertext parsed so far was noise, so its session
   * ends uncounted, the plaintext streams start at their own position 0, and what the plaintext
   * speaks is decided anew.
   */
  void startTls() {
    tls = true;
    info = info.withTls();
    session = null;
    decided = false;
    egress = new StreamAssembler(new DirectionSink(Direction.EGRESS), stats);
    ingress = new StreamAssembler(new DirectionSink(Direction.INGRESS), stats);
  }

  boolean tls() {
    return tls;
  }

  /** Starts the connection's protocol: bytes from now on go to its session. */
  void speak(Protocol protocol) {
    session = protocol.open(this);
  }

  boolean speaks() {
    return session != null;
  }

  /**
   * The connection is picked up in the middle of its streams (the pipeline had lost it): each
   * stream starts at its first event.
   */
  void joinedInTheMiddle() {
    egress.startAtFirstEvent();
    ingress.startAtFirstEvent();
  }

  /** Where each stream stands: the positions its next events should start at (egress, ingress). */
  long[] positions() {
    return new long[] {egress.next(), ingress.next(), tls ? 1 : 0};
  }

  /** Picked up again after the pipeline dropped it: both streams go on where they stood. */
  void resumeAt(long[] positions) {
    if (positions[2] == 1 && !tls) {
      startTls();
    }
    egress.startAt(positions[0]);
    ingress.startAt(positions[1]);
  }

  /** The process ran another program (execve) and kept this socket. */
  void processChanged(ProcessInfo process) {
    info = info.withProcess(process);
  }

  void onData(DataCaptured event) {
    int d = event.direction().ordinal();
    lastTid[d] = event.tid();
    lastTimestamp[d] = event.timestampNanos();
    lastActivityNanos = event.timestampNanos();
    if (event.tls() != tls) {
      return; // ciphertext of a connection whose plaintext is seen
    }
    StreamAssembler other = event.direction() == Direction.EGRESS ? ingress : egress;
    // the other direction's events held behind a hole that are older than this one are lost (this
    // later one came through the same ring): they go first, so a session sees both directions in
    // the order they happened (an answer read before its request would find no request, and the
    // request would then take the next answer)
    while (other.hasPending() && other.firstPendingNanos() <= event.timestampNanos()) {
      other.flushOne();
    }
    (event.direction() == Direction.EGRESS ? egress : ingress).accept(event);
  }

  boolean hasPending() {
    return egress.hasPending() || ingress.hasPending();
  }

  /**
   * End of a ring buffer batch: what is still missing is lost. Both directions' held events go
   * out in the order they were captured, not one direction's and then the other's.
   */
  void flush() {
    while (egress.hasPending() || ingress.hasPending()) {
      if (!ingress.hasPending() || (egress.hasPending() && egress.firstPendingNanos() <= ingress.firstPendingNanos())) {
        egress.flushOne();
      } else {
        ingress.flushOne();
      }
    }
  }

  /**
   * The connection closed. The kernel's byte totals say whether the end of either stream was lost
   * (a gap, counted, the messages it cut marked); then the session ends.
   */
  void close(long timestampNanos, long bytesEgress, long bytesIngress, long tlsBytesEgress, long tlsBytesIngress) {
    flush();
    if (cipherOnly && !tls) {
      // the kernel sent no ciphertext: nothing is missing, there is only what can be said without it
      sink.onOpaque(new OpaqueConnection(info, openedNanos, timestampNanos, bytesEgress, bytesIngress));
      return;
    }
    egress.endAt(tls ? tlsBytesEgress : bytesEgress, timestampNanos);
    ingress.endAt(tls ? tlsBytesIngress : bytesIngress, timestampNanos);
    close(timestampNanos);
  }

  /** The connection closed without byte totals. */
  void close(long timestampNanos) {
    flush();
    if (cipherOnly && !tls) {
      sink.onOpaque(new OpaqueConnection(info, openedNanos, timestampNanos, 0, 0));
      return;
    }
    if (session != null) {
      session.onClose(timestampNanos);
    }
    releaseOpen();
  }

  /** The agent stops while the connection goes on. */
  void stop() {
    flush();
    if (session != null) {
      session.onStop();
    }
    releaseOpen();
  }

  /** Dropped without close (idle or table bound): what waits is counted, nothing reported. */
  void evict() {
    if (session != null) {
      session.onEvict();
    }
    releaseOpen();
  }

  // SessionContext

  @Override
  public ConnectionInfo connection() {
    return info;
  }

  @Override
  public boolean joinedMidStream() {
    return joinedMidStream;
  }

  @Override
  public void learnRole(Role role) {
    if (info.role() != role) {
      info = info.withRole(role);
    }
  }

  @Override
  public int lastTid(Direction direction) {
    return lastTid[direction.ordinal()];
  }

  @Override
  public long lastTimestamp(Direction direction) {
    return lastTimestamp[direction.ordinal()];
  }

  @Override
  public void request(String version, Request request) {
    // the place in a trace is decided now: a call this request causes must find it open
    Direction direction = info.role() == Role.CLIENT ? Direction.EGRESS : Direction.INGRESS;
    SpanIds ids = identities.decide(info, request, lastTid(direction), !joinedMidStream);
    if (idsByRequest.size() + idsByStream.size() > MAX_DECIDED) {
      // requests dropped after they were announced never take theirs: bound what waits
      idsByRequest.clear();
      idsByStream.clear();
    }
    if (request.streamId() >= 0) {
      idsByStream.put(request.streamId(), ids);
    } else {
      idsByRequest.put(request, ids);
    }
    if (info.role() == Role.SERVER) {
      openServer.add(ids);
    }
    sink.onRequest(info, version, request);
  }

  @Override
  public SpanIds ids(Request request) {
    SpanIds ids = request.streamId() >= 0 ? idsByStream.remove(request.streamId()) : idsByRequest.remove(request);
    return ids != null ? identities.current(ids) : identities.ids(request);
  }

  @Override
  public void exchange(Exchange exchange) {
    if (exchange.role() == Role.SERVER && !openServer.isEmpty()) {
      // HTTP/1 answers in order: every request before this one is over too (answered or dropped)
      // by span id: a server exchange linked late took new ids
      int index = -1;
      for (int i = 0; i < openServer.size() && exchange.ids() != null; i++) {
        if (openServer.get(i).spanId() == exchange.ids().spanId()) {
          index = i;
          break;
        }
      }
      if (index >= 0) {
        int until = exchange.streamId() >= 0 ? index : 0;
        for (int i = index; i >= until; i--) {
          identities.answered(openServer.remove(i));
        }
      }
    }
    if (identities.hold(exchange)) {
      return; // its trace's first server may still meet its client: it leaves linked, or when the window ends
    }
    sink.onExchange(exchange);
  }

  private void releaseOpenServer() {
    for (SpanIds ids : openServer) {
      identities.answered(ids);
    }
    openServer.clear();
  }

  /** The connection's server exchanges still open end with it. */
  private void releaseOpen() {
    identities.closed(info.id());
    releaseOpenServer();
    idsByRequest.clear();
    idsByStream.clear();
  }

  @Override
  public void skipUntil(Direction direction, long position) {
    (direction == Direction.EGRESS ? egress : ingress).skipUntil(position);
    kernelTable.skipUntil(key, info.id(), direction, position);
  }

  @Override
  public void switchProtocol(String protocol, dev.spanwire.exporter.exchange.Request request) {
    protocolStats.upgrades.increment();
    Protocol next = protocols.named(protocol);
    handedOver = request;
    session = next == null ? OpaqueSession.INSTANCE : next.open(this);
    handedOver = null;
  }

  @Override
  public dev.spanwire.exporter.exchange.Request handedOver() {
    return handedOver;
  }

  @Override
  public ProtocolSettings settings() {
    return protocolSettings;
  }

  @Override
  public ProtocolStats stats() {
    return protocolStats;
  }

  /** Hands one direction's assembled stream to the session in place, and on across an upgrade. */
  private final class DirectionSink implements StreamAssembler.Sink {
    private final Direction direction;

    DirectionSink(Direction direction) {
      this.direction = direction;
    }

    @Override
    public void onBytes(byte[] data, int offset, int length, long position, long timestampNanos) {
      stats.bytesCaptured.add(length);
      ProtocolSession current = session;
      int taken = current.onBytes(direction, data, offset, length, position, timestampNanos);
      if (taken < length && session != current) {
        // the protocol changed inside these bytes: the rest are the next protocol's
        session.onBytes(direction, data, offset + taken, length - taken, position + taken, timestampNanos);
      }
    }

    @Override
    public void onSkipped(long count, long position, long timestampNanos) {
      if (session != null) {
        session.onSkipped(direction, count, position, timestampNanos);
      }
    }

    @Override
    public void onGap(long count, long position, long timestampNanos) {
      if (session == null) {
        // every byte of it was lost (its close's totals tell): counted, and no session to tell
        return;
      }
      session.onGap(direction, count, position, timestampNanos);
      // which of the open requests the lost bytes answered is unknown: none may parent a call now
      releaseOpenServer();
    }
  }

  @Override
  public String toString() {
    return "Connection{" + info.id() + " " + info.role() + " " + info.local() + " <-> " + info.remote() + ", " + session + "}";
  }

  /**
   * HTTP/1 requests' ids by request identity, in the order decided. A list searched from its
   * oldest entry, not an identity map: HTTP/1 takes them in order, so the one wanted is first or
   * near it, and an identity hash costs a call into the JVM for every new request (its hash is not
   * in the object yet). Requests never taken (dropped after they were announced) stay ahead of the
   * rest until {@code MAX_DECIDED} clears them, which bounds a search.
   */
  private static final class DecidedIds {
    private final java.util.ArrayList<Request> requests = new java.util.ArrayList<>(2);
    private final java.util.ArrayList<SpanIds> ids = new java.util.ArrayList<>(2);

    void put(Request request, SpanIds decided) {
      int at = indexOf(request);
      if (at >= 0) {
        ids.set(at, decided);
      } else {
        requests.add(request);
        ids.add(decided);
      }
    }

    /** The ids decided for {@code request}, no longer kept; null when none are. */
    SpanIds remove(Request request) {
      int at = indexOf(request);
      if (at < 0) {
        return null;
      }
      requests.remove(at);
      return ids.remove(at);
    }

    private int indexOf(Request request) {
      for (int i = 0; i < requests.size(); i++) {
        if (requests.get(i) == request) {
          return i;
        }
      }
      return -1;
    }

    int size() {
      return requests.size();
    }

    void clear() {
      requests.clear();
      ids.clear();
    }
  }
}
