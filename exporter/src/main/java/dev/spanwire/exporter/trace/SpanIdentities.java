package dev.spanwire.exporter.trace;

import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.counters.Counter;
import dev.spanwire.exporter.counters.Counters;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.HandOffQueue;
import dev.spanwire.exporter.exchange.Request;
import dev.spanwire.exporter.exchange.SpanIds;
import dev.spanwire.semconv.AgentMetric;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Where an exchange's place in a trace is decided: when its request is complete, so a call it
 * causes can find it, and every stage after pairing sees the same ids. The rules, in order:
 *
 * <ol>
 *   <li>A request carrying a valid W3C {@code traceparent} joins that trace as the caller's child,
 *       sampled as the caller says.
 *   <li>Across processes on this host: a server's request that is the very request a traced client
 *       wrote — the mirrored connection (same addresses and ports, opposite ends), the same stream
 *       position (HTTP/1) or stream (HTTP/2), written no later than it was read — is that client
 *       span's child. Only connections seen from their start take part: positions then count from
 *       the same first byte on both sides.
 *   <li>Within a process: a client request written on a thread where exactly one server exchange
 *       is open (its request read, its response not yet complete) is that exchange's child. With
 *       more than one open, the client span stays a root and the ambiguity is counted; with none,
 *       it is a root.
 *   <li>Anything else starts a trace of its own, sampled or not as the {@link Sampler} says.
 * </ol>
 *
 * <p>The kernel may report a server's read of a request before the write of the traced client
 * that sent it (the reader runs, woken, before the writer's hook has fired). Such a server request
 * starts a provisional trace and waits, for the linking window from its read, for that client
 * write. Every exchange of the provisional trace that ends meanwhile — the server's own, the calls
 * it made, their servers' — is held back. When the write comes, the provisional trace becomes the
 * client's: the server span its child, everything under it in the client's trace (ids still to be
 * taken follow the rename). When the window runs out, what was held leaves as it is (counted). So
 * a trace is never split. Only servers whose peer is on this host wait; the rest leave at once.
 *
 * <p>Sampling is decided where a trace starts (a root, or a caller's {@code traceparent}) and every
 * linked span follows its parent, so a kept trace is whole.
 *
 * A missing parent is acceptable, a wrong one is not: nothing is linked on a guess. Bounded
 * (the oldest entries go first); the held exchanges by count per trace and by heap together
 * ({@link TraceSettings#maxHeldBytes}), past which the oldest waiting traces leave as they are. Used on the pipeline thread.
 */
public final class SpanIdentities {
  /** Client requests remembered for their server side, and threads with open server exchanges. */
  static final int MAX_ENTRIES = 65_536;
  /**
   * How much later a write may be stamped than the read of its bytes completed: on a kernel
   * without {@code tcp:tcp_sendmsg_locked} the socket capture stamps a write when its send returns,
   * and the writer can be preempted in between by the reader it woke (on a busy host for
   * milliseconds) while the reader's hook has already fired.
   */
  static final long ORDER_SLACK_NANOS = 100_000_000;
  /** Open server exchanges kept per thread: more is ambiguous anyway. */
  static final int MAX_OPEN_PER_THREAD = 16;

  /** A client's request, as the server side will find it: its connection's ends and its place. */
  private record Place(InetSocketAddress client, InetSocketAddress server, long position, long stream) {
    /** Ports and place only (equality stays whole): the addresses' own hashes cost more than they tell apart. */
    @Override
    public int hashCode() {
      return (int) (position * 31 + stream) * 961 + client.getPort() * 31 + server.getPort();
    }

    /** Every component, written out (see {@link dev.spanwire.exporter.exchange.ProcessInfo#equals}: the generated one goes through method handles). */
    @Override
    public boolean equals(Object other) {
      return other instanceof Place that
          && position == that.position && stream == that.stream
          && client.equals(that.client) && server.equals(that.server);
    }
  }

  private record Written(SpanIds ids, long startNanos, long connectionId) {}

  /** A server request decided as a root while the client write that sent it may still come. */
  private static final class Unclaimed {
    final Place place;
    final SpanIds ids;
    final long readNanos;
    final long deadlineNanos;
    /** Its client connection was known to be traced: giving up is worth counting. */
    final boolean peerKnown;
    /** The server connection that read it. */
    final long connectionId;
    /** The exchanges of its provisional trace that ended while it waited. */
    List<Exchange> held;
    /** What {@link #held} holds of the heap, as {@link HandOffQueue#heldBytes} estimates. */
    long heldBytes;
    /** Linked, released or forgotten: its place in the queue is void. */
    boolean done;

    Unclaimed(Place place, SpanIds ids, long readNanos, long deadlineNanos, boolean peerKnown, long connectionId) {
      this.peerKnown = peerKnown;
      this.connectionId = connectionId;
      this.place = place;
      this.ids = ids;
      this.readNanos = readNanos;
      this.deadlineNanos = deadlineNanos;
    }
  }

  /**
   * How long a server whose peer is on this host but not (yet) a known traced client waits: the
   * client's first bytes, which announce its connection, come within microseconds of the read, so
   * this only covers their place in the event stream; an untraced client costs no more.
   */
  static final long UNKNOWN_PEER_WINDOW_NANOS = 50_000_000;
  /** Server connections whose unknown local peer is remembered (see {@link #peerUntraced}). */
  static final int MAX_UNKNOWN_PEERS = 65_536;
  /** Addresses of this host learned from traced connections' local ends, beside loopback. */
  static final int MAX_LOCAL_ADDRESSES = 1024;

  /** Server requests waiting for their client at once; past it the oldest gives up early. */
  static final int MAX_UNCLAIMED = 8192;
  /** Exchanges held per waiting trace; past it the trace gives up waiting. */
  static final int MAX_HELD_PER_TRACE = 256;
  /** Provisional traces renamed, remembered for the ids still to be taken. */
  static final int MAX_RENAMED = 16_384;
  /**
   * How long a rename is remembered: spans of the trace decided later than this (a call a
   * minute-long request makes at its end) stay in the provisional trace. Forgetting keeps the map
   * empty, and its lookups skipped, while no race happens.
   */
  static final long RENAME_TTL_NANOS = 60_000_000_000L;

  /** A provisional trace that became a client's: its new trace, and its root's new parent. */
  private record Renamed(long oldHigh, long high, long low, boolean sampled, String traceState, long rootSpanId,
      long rootParent, long forgetAtNanos) {}

  private final SplittableRandom random;
  private final Sampler sampler;
  private final long windowNanos;
  private final long maxHeldBytes;
  /** What every waiter's held exchanges hold together. */
  private long heldBytes;
  private final LongSupplier clock;
  private final Consumer<Exchange> release;
  private final Counter crossProcess;
  private final Counter inProcess;
  private final Counter ambiguous;
  private final Counter expired;
  /** Server requests that may still meet their client, by place and by span id; in read order. */
  private final Map<Place, Unclaimed> unclaimed = new HashMap<>();
  private final Map<Long, Unclaimed> unclaimedBySpan = new HashMap<>();
  private final ArrayDeque<Unclaimed> waiting = new ArrayDeque<>();
  /** Waiting server requests by their provisional trace (its last 8 bytes). */
  private final Map<Long, Unclaimed> waitingTraces = new HashMap<>();
  /** Provisional traces that became clients', by their last 8 bytes. */
  private final ArrayDeque<Map.Entry<Long, Renamed>> renamedOrder = new ArrayDeque<>();
  private final Map<Long, Renamed> renamed = new LinkedHashMap<>(256, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Renamed> eldest) {
      return size() > MAX_RENAMED;
    }
  };
  /**
   * Server connections whose peer on this host was not a known traced client at a request, to when
   * that was first seen: once longer ago than {@link #UNKNOWN_PEER_WINDOW_NANOS}, its client would
   * have announced itself by its first bytes if it were traced. {@code Long.MAX_VALUE} once a
   * request showed its client traced after all ({@link #peerTraced}).
   */
  private final Map<Long, Long> unknownPeerSince = new HashMap<>();
  /** The local ends of traced client connections seen from their start, to their connection id. */
  private final Map<InetSocketAddress, Long> clientEnds = new LinkedHashMap<>(256, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<InetSocketAddress, Long> eldest) {
      return size() > MAX_ENTRIES;
    }
  };
  private final java.util.Set<java.net.InetAddress> localAddresses = new java.util.HashSet<>();
  private final Map<Long, InetSocketAddress> clientEndOf = new LinkedHashMap<>(256, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, InetSocketAddress> eldest) {
      return size() > MAX_ENTRIES;
    }
  };
  private final Map<Place, Written> clientRequests = new LinkedHashMap<>(256, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Place, Written> eldest) {
      if (size() <= MAX_ENTRIES) {
        return false;
      }
      forgetPlace(eldest.getKey(), eldest.getValue());
      return true;
    }
  };
  /**
   * The places each client connection has waiting in {@link #clientRequests}, to forget them when
   * it closes. Only the waiting ones: a place leaves its set when its server side claims it or the
   * bound evicts it (a keep-alive connection's list of every request it ever sent grew without
   * bound: 200,000 places a minute under bench/soak.sh, then an OutOfMemoryError).
   */
  private final Map<Long, java.util.ArrayDeque<Place>> placesOf = new LinkedHashMap<>(256, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, java.util.ArrayDeque<Place>> eldest) {
      return size() > MAX_ENTRIES;
    }
  };
  /** Open server exchanges by thread (pid << 32 | tid). */
  private final Map<Long, List<SpanIds>> openByThread = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, List<SpanIds>> eldest) {
      if (size() <= MAX_ENTRIES) {
        return false;
      }
      for (SpanIds ids : eldest.getValue()) {
        threadOfOpen.remove(ids.spanId());
      }
      return true;
    }
  };
  /** The thread each open server exchange is on, by span id. */
  private final Map<Long, Long> threadOfOpen = new HashMap<>();

  public SpanIdentities() {
    this(new SplittableRandom(), new Counters());
  }

  public SpanIdentities(Counters counters) {
    this(new SplittableRandom(), counters);
  }

  public SpanIdentities(SplittableRandom random) {
    this(random, new Counters());
  }

  public SpanIdentities(SplittableRandom random, Counters counters) {
    this(random, counters, new TraceSettings(Sampler.DEFAULT, java.time.Duration.ZERO), () -> 0, exchange -> {});
  }

  /**
   * @param clock monotonic nanoseconds, for the linking window
   * @param release where an exchange held in the linking window goes when it leaves
   */
  public SpanIdentities(
      SplittableRandom random, Counters counters, TraceSettings settings, LongSupplier clock, Consumer<Exchange> release) {
    this.random = random;
    this.sampler = settings.sampler();
    this.windowNanos = settings.linkingWindow().toNanos();
    this.maxHeldBytes = settings.maxHeldBytes();
    this.clock = clock;
    this.release = release;
    this.crossProcess = counters.counter(AgentMetric.LINKS_CROSS_PROCESS);
    this.inProcess = counters.counter(AgentMetric.LINKS_IN_PROCESS);
    this.ambiguous = counters.counter(AgentMetric.LINKS_AMBIGUOUS);
    this.expired = counters.counter(AgentMetric.LINKS_WINDOW_EXPIRED);
  }

  /** The ids of a request's exchange by the traceparent rule alone: under it, or a new trace. */
  public SpanIds ids(Request request) {
    SpanIds caller = Traceparent.parse(request.traceparent());
    return caller != null ? childOfCaller(caller, request) : root();
  }

  private SpanIds childOfCaller(SpanIds caller, Request request) {
    return new SpanIds(caller.traceIdHigh(), caller.traceIdLow(), nonZero(), caller.spanId(), true,
        sampler.sampleUnderRemote(caller.traceIdLow(), caller.sampled()), request.tracestate());
  }

  private SpanIds root() {
    long low = nonZero();
    return new SpanIds(random.nextLong(), low, nonZero(), 0, false, sampler.sampleRoot(low), null);
  }

  private SpanIds childOf(SpanIds parent) {
    return new SpanIds(parent.traceIdHigh(), parent.traceIdLow(), nonZero(), parent.spanId(), false, parent.sampled(),
        parent.traceState());
  }

  /**
   * The ids of the exchange of a request now complete, by the rules above.
   *
   * @param tid the thread that moved the request's bytes
   * @param fromStart whether the connection was seen from its first byte (positions comparable)
   */
  public SpanIds decide(ConnectionInfo connection, Request request, int tid, boolean fromStart) {
    if (connection.role() != Role.SERVER && connection.role() != Role.CLIENT) {
      return ids(request); // which side is which is not known: nothing to link
    }
    long position = request.streamId() >= 0 ? -1 : request.startPosition();
    boolean placed = fromStart && (request.streamId() >= 0 || position >= 0);
    SpanIds caller = Traceparent.parse(request.traceparent());
    if (connection.role() == Role.SERVER) {
      SpanIds ids = null;
      if (caller == null && placed && !clientRequests.isEmpty()) {
        Place place = new Place(connection.remote(), connection.local(), position, request.streamId());
        Written written = clientRequests.remove(place);
        if (written != null) {
          forgetPlace(place, written);
        }
        // the socket hooks fire once the bytes moved: the reader may take them a little before the
        // writer's event is stamped
        if (written != null && written.startNanos() <= request.endNanos() + ORDER_SLACK_NANOS) {
          ids = childOf(follow(written.ids()));
          crossProcess.increment();
          peerTraced(connection.id());
        }
      }
      if (ids == null) {
        ids = caller != null ? childOfCaller(caller, request) : root();
        if (caller == null && placed && windowNanos > 0) {
          if (clientEnds.containsKey(connection.remote())) {
            // its client is traced here but has not been reported writing it yet
            await(new Place(connection.remote(), connection.local(), position, request.streamId()), ids, request,
                windowNanos, true, connection.id());
          } else if (isLocal(connection.remote().getAddress()) && !peerUntraced(connection.id())) {
            // a client on this host not reported yet: the socket capture reports a connection with
            // its first bytes, which may come just after the server's read of them
            await(new Place(connection.remote(), connection.local(), position, request.streamId()), ids, request,
                Math.min(windowNanos, UNKNOWN_PEER_WINDOW_NANOS), false, connection.id());
          }
        }
      }
      open(connection.process().pid(), tid, ids);
      return ids;
    }
    SpanIds ids;
    if (caller != null) {
      ids = childOfCaller(caller, request);
    } else {
      List<SpanIds> open = openByThread.get(threadKey(connection.process().pid(), tid));
      if (open == null || open.isEmpty()) {
        ids = root();
      } else if (open.size() == 1) {
        ids = childOf(follow(open.getFirst()));
        inProcess.increment();
      } else {
        ids = root();
        ambiguous.increment();
      }
    }
    if (placed) {
      Place place = new Place(connection.local(), connection.remote(), position, request.streamId());
      if (!unclaimed.isEmpty() && claim(place, follow(ids), request)) {
        return ids;
      }
      clientRequests.put(place, new Written(ids, request.startNanos(), connection.id()));
      placesOf.computeIfAbsent(connection.id(), c -> new java.util.ArrayDeque<>(4)).addLast(place);
    }
    return ids;
  }

  /**
   * Whether the server connection {@code connectionId}'s local peer has had its window to announce
   * itself and has not: a client this host does not trace (another process under a pid filter,
   * say). Its later requests then wait for nothing: on a keep-alive connection from an untraced
   * load generator every request waited the window, thousands of exchanges held at once.
   */
  private boolean peerUntraced(long connectionId) {
    long now = clock.getAsLong();
    Long since = unknownPeerSince.get(connectionId);
    if (since == null) {
      if (unknownPeerSince.size() < MAX_UNKNOWN_PEERS) {
        unknownPeerSince.put(connectionId, now);
      }
      return false;
    }
    return now - since > UNKNOWN_PEER_WINDOW_NANOS;
  }

  /**
   * The server connection {@code connectionId}'s peer wrote a request this host traced, though it
   * was not a known client connection (its start unseen, say): its requests keep waiting.
   */
  private void peerTraced(long connectionId) {
    if (!unknownPeerSince.isEmpty()) {
      unknownPeerSince.replace(connectionId, Long.MAX_VALUE);
    }
  }

  /** Server connections whose unknown local peer is remembered, for tests of the bound. */
  int unknownPeers() {
    return unknownPeerSince.size();
  }

  /** Places the client connections keep to forget at close (at most {@link #MAX_ENTRIES} wait). */
  int placesKept() {
    return placesOf.values().stream().mapToInt(java.util.ArrayDeque::size).sum();
  }

  /** A waiting place is gone from {@link #clientRequests} (claimed or evicted): its connection forgets it. */
  private void forgetPlace(Place place, Written written) {
    // a queue in the order they were written: the one claimed or evicted is nearly always its head,
    // so this costs no search and, unlike a set, no node per request; the empty queue stays with
    // its connection until it closes
    java.util.ArrayDeque<Place> places = placesOf.get(written.connectionId());
    if (places != null) {
      places.removeFirstOccurrence(place);
    }
  }

  /**
   * A connection closed. A client's requests no longer wait for their server side, so a later
   * connection on the same addresses and ports (its positions starting over) never finds them; what
   * was learned of a server's peer goes with it.
   */
  public void closed(long connectionId) {
    unknownPeerSince.remove(connectionId);
    InetSocketAddress end = clientEndOf.remove(connectionId);
    if (end != null) {
      clientEnds.remove(end, connectionId);
    }
    java.util.ArrayDeque<Place> places = placesOf.remove(connectionId);
    if (places != null) {
      for (Place place : places) {
        clientRequests.remove(place);
      }
    }
  }

  /**
   * A client connection of this host was seen from its start: a server that reads a request from
   * it may wait for its write to be reported.
   */
  public void clientOpened(long connectionId, InetSocketAddress local) {
    clientEnds.put(local, connectionId);
    clientEndOf.put(connectionId, local);
  }

  /** A traced connection's local end: its address is this host's (a container's, say). */
  public void localEnd(InetSocketAddress local) {
    if (localAddresses.size() < MAX_LOCAL_ADDRESSES) {
      localAddresses.add(local.getAddress());
    }
  }

  private boolean isLocal(java.net.InetAddress address) {
    return address.isLoopbackAddress() || localAddresses.contains(address);
  }

  /** The ids an exchange takes at pairing: those decided for its request, in its trace as renamed since. */
  public SpanIds current(SpanIds decided) {
    return follow(decided);
  }

  /**
   * The same span in the trace its provisional trace became (a rename may follow another: a
   * server waiting for a call that itself was in a provisional trace).
   */
  private SpanIds follow(SpanIds ids) {
    if (renamed.isEmpty()) {
      return ids;
    }
    for (int hop = 0; hop < 8; hop++) {
      Renamed r = renamed.get(ids.traceIdLow());
      if (r == null || r.oldHigh() != ids.traceIdHigh()) {
        return ids;
      }
      boolean root = ids.spanId() == r.rootSpanId();
      ids = new SpanIds(r.high(), r.low(), ids.spanId(), root ? r.rootParent() : ids.parentSpanId(),
          !root && ids.remoteParent(), r.sampled(), r.traceState());
    }
    return ids;
  }

  /**
   * Whether an ended exchange waits in the linking window (its trace is provisional: the server
   * request that started it may still meet its client); if so it leaves through the release this
   * was made with, later (or at once, when holding it passed a bound).
   */
  public boolean hold(Exchange exchange) {
    if (waitingTraces.isEmpty() || exchange.ids() == null) {
      return false;
    }
    Unclaimed waiter = waitingTraces.get(exchange.ids().traceIdLow());
    if (waiter == null || waiter.ids.traceIdHigh() != exchange.ids().traceIdHigh()) {
      return false;
    }
    if (waiter.held == null) {
      waiter.held = new ArrayList<>(2);
    }
    long bytes = HandOffQueue.heldBytes(exchange);
    waiter.held.add(exchange);
    waiter.heldBytes += bytes;
    heldBytes += bytes;
    if (waiter.held.size() >= MAX_HELD_PER_TRACE) {
      giveUp(waiter); // a busy trace: what it holds leaves as it is
    }
    while (heldBytes > maxHeldBytes && !waiting.isEmpty()) {
      giveUp(waiting.pollFirst()); // too much heap waits: the oldest traces leave as they are
    }
    return true;
  }

  /** Server requests whose window ran out give up: their held exchanges leave as roots. */
  public void expire() {
    if (waiting.isEmpty() && renamedOrder.isEmpty()) {
      return;
    }
    long now = clock.getAsLong();
    while (!renamedOrder.isEmpty() && renamedOrder.peekFirst().getValue().forgetAtNanos() <= now) {
      Map.Entry<Long, Renamed> oldest = renamedOrder.pollFirst();
      renamed.remove(oldest.getKey(), oldest.getValue());
    }
    while (!waiting.isEmpty() && (waiting.peekFirst().done || waiting.peekFirst().deadlineNanos <= now)) {
      giveUp(waiting.pollFirst());
    }
  }

  /** At shutdown: every held exchange leaves now. */
  public void releaseAll() {
    while (!waiting.isEmpty()) {
      giveUp(waiting.pollFirst());
    }
  }

  /** Exchanges held in the linking window now. */
  public int held() {
    int held = 0;
    for (Unclaimed waiter : waiting) {
      held += !waiter.done && waiter.held != null ? waiter.held.size() : 0;
    }
    return held;
  }

  private void await(Place place, SpanIds ids, Request request, long window, boolean peerKnown, long connectionId) {
    if (waiting.size() >= MAX_UNCLAIMED) {
      giveUp(waiting.pollFirst());
    }
    Unclaimed waiter = new Unclaimed(place, ids, request.endNanos(), clock.getAsLong() + window, peerKnown, connectionId);
    Unclaimed before = unclaimed.put(place, waiter);
    if (before != null) {
      forget(before); // the same place again: the connection started over
      leave(before);
      unclaimed.put(place, waiter);
    }
    unclaimedBySpan.put(ids.spanId(), waiter);
    waitingTraces.put(ids.traceIdLow(), waiter);
    waiting.addLast(waiter);
  }

  /**
   * A traced client wrote the request a server read before: the server's provisional trace becomes
   * the client's, the server span the client span's child. Returns whether the place was a waiting
   * server's (the client request then waits for nothing).
   */
  private boolean claim(Place place, SpanIds clientIds, Request request) {
    Unclaimed waiter = unclaimed.get(place);
    if (waiter == null) {
      return false;
    }
    forget(waiter);
    if (request.startNanos() > waiter.readNanos + ORDER_SLACK_NANOS) {
      leave(waiter);
      return true;
    }
    Renamed rename = new Renamed(waiter.ids.traceIdHigh(), clientIds.traceIdHigh(), clientIds.traceIdLow(),
        clientIds.sampled(), clientIds.traceState(), waiter.ids.spanId(), clientIds.spanId(),
        clock.getAsLong() + RENAME_TTL_NANOS);
    renamed.put(waiter.ids.traceIdLow(), rename);
    renamedOrder.addLast(Map.entry(waiter.ids.traceIdLow(), rename));
    if (renamedOrder.size() > MAX_RENAMED) {
      Map.Entry<Long, Renamed> oldest = renamedOrder.pollFirst();
      renamed.remove(oldest.getKey(), oldest.getValue());
    }
    crossProcess.increment();
    peerTraced(waiter.connectionId);
    leave(waiter);
    return true;
  }

  private void giveUp(Unclaimed waiter) {
    if (waiter.done) {
      return;
    }
    forget(waiter);
    if (waiter.held != null && waiter.peerKnown) {
      expired.add(waiter.held.size());
    }
    leave(waiter);
  }

  private void forget(Unclaimed waiter) {
    waiter.done = true;
    unclaimed.remove(waiter.place, waiter);
    unclaimedBySpan.remove(waiter.ids.spanId(), waiter);
    waitingTraces.remove(waiter.ids.traceIdLow(), waiter);
  }

  /**
   * What a waiter held leaves, in its trace as it now is: renamed into the client's, or as it was;
   * an exchange whose trace is (again) a waiting provisional one is held by that waiter instead.
   */
  private void leave(Unclaimed waiter) {
    if (waiter.held != null) {
      List<Exchange> held = waiter.held;
      waiter.held = null;
      heldBytes -= waiter.heldBytes;
      waiter.heldBytes = 0;
      for (Exchange exchange : held) {
        Exchange now = exchange.withIds(follow(exchange.ids()));
        if (!hold(now)) {
          release.accept(now);
        }
      }
    }
  }

  /** A server exchange's response is complete (or it ended without one): it causes no more calls. */
  public void answered(SpanIds ids) {
    Long thread = threadOfOpen.remove(ids.spanId());
    if (thread == null) {
      return;
    }
    List<SpanIds> open = openByThread.get(thread);
    if (open != null) {
      for (int i = 0; i < open.size(); i++) {
        if (open.get(i).spanId() == ids.spanId()) {
          open.remove(i);
          break;
        }
      }
      // an empty list stays: the thread serves again soon (the map's bound drops idle threads)
    }
  }

  private void open(int pid, int tid, SpanIds ids) {
    long thread = threadKey(pid, tid);
    List<SpanIds> open = openByThread.computeIfAbsent(thread, t -> new ArrayList<>(2));
    if (open.size() >= MAX_OPEN_PER_THREAD) {
      threadOfOpen.remove(open.removeFirst().spanId());
    }
    open.add(ids);
    threadOfOpen.put(ids.spanId(), thread);
  }

  private static long threadKey(int pid, int tid) {
    return (long) pid << 32 | (tid & 0xffffffffL);
  }

  /** A random id that is not all zeros (W3C: all-zero ids are invalid). */
  private long nonZero() {
    long id;
    do {
      id = random.nextLong();
    } while (id == 0);
    return id;
  }
}
