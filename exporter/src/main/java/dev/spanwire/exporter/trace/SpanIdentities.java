package dev.spanwire.exporter.trace;

import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.counters.Counter;
import dev.spanwire.exporter.counters.Counters;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.Request;
import dev.spanwire.exporter.exchange.SpanIds;
import dev.spanwire.semconv.AgentMetric;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

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
 *   <li>Anything else starts a trace of its own, sampled.
 * </ol>
 *
 * A missing parent is acceptable, a wrong one is not: nothing is linked on a guess. Bounded
 * (the oldest entries go first). Used on the pipeline thread.
 */
public final class SpanIdentities {
  /** Client requests remembered for their server side, and threads with open server exchanges. */
  static final int MAX_ENTRIES = 65_536;
  /** How much later a write may be stamped than the read of its bytes completed. */
  static final long ORDER_SLACK_NANOS = 1_000_000;
  /** Open server exchanges kept per thread: more is ambiguous anyway. */
  static final int MAX_OPEN_PER_THREAD = 16;

  /** A client's request, as the server side will find it: its connection's ends and its place. */
  private record Place(InetSocketAddress client, InetSocketAddress server, long position, long stream) {}

  private record Written(SpanIds ids, long startNanos) {}

  private final SplittableRandom random;
  private final Counter crossProcess;
  private final Counter inProcess;
  private final Counter ambiguous;
  private final Map<Place, Written> clientRequests = new LinkedHashMap<>(256, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Place, Written> eldest) {
      return size() > MAX_ENTRIES;
    }
  };
  /** The places each client connection registered, to forget them when it closes. */
  private final Map<Long, List<Place>> placesOf = new LinkedHashMap<>(256, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, List<Place>> eldest) {
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
    this.random = random;
    this.crossProcess = counters.counter(AgentMetric.LINKS_CROSS_PROCESS);
    this.inProcess = counters.counter(AgentMetric.LINKS_IN_PROCESS);
    this.ambiguous = counters.counter(AgentMetric.LINKS_AMBIGUOUS);
  }

  /** The ids of a request's exchange by the traceparent rule alone: under it, or a new trace. */
  public SpanIds ids(Request request) {
    SpanIds caller = Traceparent.parse(request.traceparent());
    return caller != null ? childOfCaller(caller, request) : root();
  }

  private SpanIds childOfCaller(SpanIds caller, Request request) {
    return new SpanIds(caller.traceIdHigh(), caller.traceIdLow(), nonZero(), caller.spanId(), true, caller.sampled(),
        request.tracestate());
  }

  private SpanIds root() {
    return new SpanIds(random.nextLong(), nonZero(), nonZero(), 0, false, true, null);
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
        Written written = clientRequests.remove(
            new Place(connection.remote(), connection.local(), position, request.streamId()));
        // the socket hooks fire once the bytes moved: the reader may take them a little before the
        // writer's event is stamped
        if (written != null && written.startNanos() <= request.endNanos() + ORDER_SLACK_NANOS) {
          ids = childOf(written.ids());
          crossProcess.increment();
        }
      }
      if (ids == null) {
        ids = caller != null ? childOfCaller(caller, request) : root();
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
        ids = childOf(open.getFirst());
        inProcess.increment();
      } else {
        ids = root();
        ambiguous.increment();
      }
    }
    if (placed) {
      Place place = new Place(connection.local(), connection.remote(), position, request.streamId());
      clientRequests.put(place, new Written(ids, request.startNanos()));
      placesOf.computeIfAbsent(connection.id(), c -> new ArrayList<>(2)).add(place);
    }
    return ids;
  }

  /**
   * A client connection closed: its requests no longer wait for their server side, so a later
   * connection on the same addresses and ports (its positions starting over) never finds them.
   */
  public void closed(long connectionId) {
    List<Place> places = placesOf.remove(connectionId);
    if (places != null) {
      for (Place place : places) {
        clientRequests.remove(place);
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
