package dev.spanwire.exporter.connection;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.Exchange;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spans linked through the whole connection stage, from event sequences as the kernel delivers
 * them (every event of the script is on process 4242, thread 4243).
 */
class LinkingTest {
  @TempDir Path proc;

  private final RecordingSink sink = new RecordingSink();
  private ConnectionTracker pipeline;
  /** The pipeline's monotonic clock (the linking window's), moved by the tests. */
  private long now = 5_000_000_000L;

  @BeforeEach
  void pipeline() {
    pipeline = new ConnectionTracker(sink, PipelineSettings.defaults(), new ProcessRegistry(proc), () -> now);
  }

  private boolean reported(String target, Role role) {
    return sink.exchanges.stream().anyMatch(e -> e.request().target().equals(target) && e.role() == role);
  }

  private PipelineStats stats() {
    pipeline.afterBatch();
    return pipeline.stats();
  }

  private Exchange exchange(String target, Role role) {
    return sink.exchanges.stream().filter(e -> e.request().target().equals(target) && e.role() == role).findFirst()
        .orElseThrow(() -> new AssertionError(target + " " + role + " not in " + sink.summary()));
  }

  @Test
  void aKeepAliveClientConnectionKeepsOnlyThePlacesStillWaiting() {
    // found by bench/soak.sh: every request a keep-alive client connection ever sent stayed in a
    // list kept for its close, 200,000 a minute, until the heap ran out
    EventScript client = new EventScript(30, 50030, 8080);
    EventScript server = new EventScript(31, 8080, 50030);
    pipeline.onEvent(client.open(Role.CLIENT));
    pipeline.onEvent(server.open(Role.SERVER));
    for (int i = 0; i < 5_000; i++) {
      pipeline.onEvent(client.out("GET /claimed HTTP/1.1\nHost: h\n\n"));
      pipeline.onEvent(server.in("GET /claimed HTTP/1.1\nHost: h\n\n"));
      pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
      pipeline.onEvent(client.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    }
    pipeline.afterBatch();
    assertThat(stats().linksCrossProcess()).isEqualTo(5_000);
    var identities = pipeline.identities();
    assertThat(dev.spanwire.exporter.trace.SpanIdentitiesAccess.placesKept(identities)).as("all claimed").isZero();

    // a server this host does not trace: its places wait until the bound evicts the oldest
    EventScript lonely = new EventScript(32, 50032, 9999);
    pipeline.onEvent(lonely.open(Role.CLIENT));
    int max = dev.spanwire.exporter.trace.SpanIdentitiesAccess.maxEntries();
    for (int i = 0; i < max + 10_000; i++) {
      pipeline.onEvent(lonely.out("GET /far HTTP/1.1\nHost: h\n\n"));
      pipeline.onEvent(lonely.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    }
    pipeline.afterBatch();
    assertThat(dev.spanwire.exporter.trace.SpanIdentitiesAccess.placesKept(identities)).isEqualTo(max);
    pipeline.onEvent(lonely.close());
    pipeline.afterBatch();
    assertThat(dev.spanwire.exporter.trace.SpanIdentitiesAccess.placesKept(identities)).isZero();
  }

  @Test
  void theServerSideOfAClientsRequestOnThisHostIsItsChild() {
    EventScript client = new EventScript(10, 50010, 8080);
    EventScript server = new EventScript(11, 8080, 50010);
    pipeline.onEvent(client.open(Role.CLIENT));
    pipeline.onEvent(server.open(Role.SERVER));
    for (String path : new String[] {"/one", "/two"}) {
      pipeline.onEvent(client.out("GET " + path + " HTTP/1.1\nHost: h\n\n"));
      pipeline.onEvent(server.in("GET " + path + " HTTP/1.1\nHost: h\n\n"));
      pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
      pipeline.onEvent(client.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    }
    for (String path : new String[] {"/one", "/two"}) {
      var caller = exchange(path, Role.CLIENT).ids();
      var callee = exchange(path, Role.SERVER).ids();
      assertThat(caller.hasParent()).isFalse();
      assertThat(callee.parentSpanId()).as(path).isEqualTo(caller.spanId());
      assertThat(callee.traceIdHex()).isEqualTo(caller.traceIdHex());
      assertThat(callee.remoteParent()).isFalse();
    }
    assertThat(exchange("/one", Role.CLIENT).ids().traceIdHex()).isNotEqualTo(exchange("/two", Role.CLIENT).ids().traceIdHex());
    assertThat(stats().linksCrossProcess()).isEqualTo(2);
  }

  @Test
  void aCallMadeWhileOneServerExchangeIsOpenOnTheThreadIsItsChild() {
    EventScript front = new EventScript(20, 8080, 50020);
    EventScript back = new EventScript(21, 50021, 9090);
    pipeline.onEvent(front.open(Role.SERVER));
    pipeline.onEvent(back.open(Role.CLIENT));
    pipeline.onEvent(front.in("GET /front HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(back.out("GET /back HTTP/1.1\nHost: b\n\n"));
    pipeline.onEvent(back.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(front.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    // the front's response is complete: a later call is not its child
    pipeline.onEvent(back.out("GET /later HTTP/1.1\nHost: b\n\n"));
    pipeline.onEvent(back.in("HTTP/1.1 204 No Content\n\n"));
    // the front's client is not traced: its trace leaves when the linking window ends
    now += 50_000_000L;
    pipeline.afterBatch();

    var frontIds = exchange("/front", Role.SERVER).ids();
    var backIds = exchange("/back", Role.CLIENT).ids();
    assertThat(backIds.parentSpanId()).isEqualTo(frontIds.spanId());
    assertThat(backIds.traceIdHex()).isEqualTo(frontIds.traceIdHex());
    assertThat(exchange("/later", Role.CLIENT).ids().hasParent()).isFalse();
    assertThat(stats().linksInProcess()).isEqualTo(1);
  }

  @Test
  void twoOpenServerExchangesOnTheThreadLeaveTheCallARoot() {
    EventScript a = new EventScript(30, 8080, 50030);
    EventScript b = new EventScript(31, 8080, 50031);
    EventScript back = new EventScript(32, 50032, 9090);
    pipeline.onEvent(a.open(Role.SERVER));
    pipeline.onEvent(b.open(Role.SERVER));
    pipeline.onEvent(back.open(Role.CLIENT));
    pipeline.onEvent(a.in("GET /a HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(b.in("GET /b HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(back.out("GET /back HTTP/1.1\nHost: b\n\n"));
    pipeline.onEvent(back.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(a.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(b.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));

    assertThat(exchange("/back", Role.CLIENT).ids().hasParent()).isFalse();
    PipelineStats stats = stats();
    assertThat(stats.linksAmbiguous()).isEqualTo(1);
    assertThat(stats.linksInProcess()).isZero();
  }

  @Test
  void aServerExchangeWhoseAnswerWasLostParentsNoLaterCall() {
    EventScript front = new EventScript(60, 8080, 50060);
    EventScript back = new EventScript(61, 50061, 9090);
    pipeline.onEvent(front.open(Role.SERVER));
    pipeline.onEvent(back.open(Role.CLIENT));
    pipeline.onEvent(front.in("GET /front HTTP/1.1\nHost: h\n\n"));
    front.lose(dev.spanwire.bpf.Direction.EGRESS, 100); // its response went by unseen
    pipeline.onEvent(front.out("HTTP/1.1 204 No Content\n\n"));
    pipeline.afterBatch(); // the hole is loss once the batch it could have been filled in is over
    pipeline.onEvent(back.out("GET /back HTTP/1.1\nHost: b\n\n"));
    pipeline.onEvent(back.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));

    assertThat(exchange("/back", Role.CLIENT).ids().hasParent()).isFalse();
    assertThat(stats().linksInProcess()).isZero();
  }

  @Test
  void aTraceparentWinsOverTheConnectionMatch() {
    EventScript client = new EventScript(40, 50040, 8080);
    EventScript server = new EventScript(41, 8080, 50040);
    pipeline.onEvent(client.open(Role.CLIENT));
    pipeline.onEvent(server.open(Role.SERVER));
    String request = "GET /tp HTTP/1.1\nHost: h\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\n\n";
    pipeline.onEvent(client.out(request));
    pipeline.onEvent(server.in(request));
    pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(client.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));

    for (Role role : Role.values()) {
      if (role == Role.UNKNOWN) {
        continue;
      }
      var ids = exchange("/tp", role).ids();
      assertThat(ids.traceIdHex()).isEqualTo("0af7651916cd43dd8448eb211c80319c");
      assertThat(ids.parentSpanIdHex()).isEqualTo("b7ad6b7169203331");
    }
    assertThat(stats().linksCrossProcess()).isZero();
  }

  @Test
  void aConnectionMetMidStreamIsNotLinkedByPosition() {
    EventScript client = new EventScript(50, 50050, 8080);
    EventScript server = new EventScript(51, 8080, 50050);
    pipeline.onEvent(client.openJoined(Role.CLIENT));
    pipeline.onEvent(server.openJoined(Role.SERVER));
    pipeline.onEvent(client.out("GET /j HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(server.in("GET /j HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(client.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));

    assertThat(exchange("/j", Role.SERVER).ids().hasParent()).isFalse();
    assertThat(stats().linksCrossProcess()).isZero();
  }

  @Test
  void aServerReadReportedBeforeItsClientsWriteWaitsForItAndIsLinked() {
    EventScript client = new EventScript(70, 50070, 8080, 5151); // curl, a process of its own
    EventScript server = new EventScript(71, 8080, 50070);
    pipeline.onEvent(client.open(Role.CLIENT));
    pipeline.onEvent(server.open(Role.SERVER));
    // the reader's hook fired first, and the whole exchange on the server side too
    pipeline.onEvent(server.in("GET /late HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.afterBatch();
    assertThat(reported("/late", Role.SERVER)).as("held for its client").isFalse();
    pipeline.onEvent(client.out("GET /late HTTP/1.1\nHost: h\n\n"));
    assertThat(reported("/late", Role.SERVER)).as("released once linked").isTrue();
    pipeline.onEvent(client.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));

    var caller = exchange("/late", Role.CLIENT).ids();
    var callee = exchange("/late", Role.SERVER).ids();
    assertThat(caller.hasParent()).isFalse();
    assertThat(callee.parentSpanId()).isEqualTo(caller.spanId());
    assertThat(callee.traceIdHex()).isEqualTo(caller.traceIdHex());
    PipelineStats stats = stats();
    assertThat(stats.linksCrossProcess()).isEqualTo(1);
    assertThat(stats.linksWindowExpired()).isZero();
  }

  @Test
  void aServerLinkedLateBeforeItsResponseTakesItsCallsIntoTheClientsTrace() {
    EventScript client = new EventScript(80, 50080, 8080, 5151); // curl, a process of its own
    EventScript server = new EventScript(81, 8080, 50080);
    EventScript back = new EventScript(82, 50082, 9090);
    pipeline.onEvent(client.open(Role.CLIENT));
    pipeline.onEvent(server.open(Role.SERVER));
    pipeline.onEvent(back.open(Role.CLIENT));
    pipeline.onEvent(server.in("GET /front HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(client.out("GET /front HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(back.out("GET /back HTTP/1.1\nHost: b\n\n"));
    pipeline.onEvent(back.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(client.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));

    var curl = exchange("/front", Role.CLIENT).ids();
    var front = exchange("/front", Role.SERVER).ids();
    var call = exchange("/back", Role.CLIENT).ids();
    assertThat(front.parentSpanId()).isEqualTo(curl.spanId());
    assertThat(call.parentSpanId()).isEqualTo(front.spanId());
    assertThat(call.traceIdHex()).isEqualTo(curl.traceIdHex()).isEqualTo(front.traceIdHex());
    // the front's response is complete: it parents nothing later
    pipeline.onEvent(back.out("GET /after HTTP/1.1\nHost: b\n\n"));
    pipeline.onEvent(back.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    assertThat(exchange("/after", Role.CLIENT).ids().hasParent()).isFalse();
    PipelineStats stats = stats();
    assertThat(stats.linksCrossProcess()).isEqualTo(1);
    assertThat(stats.linksInProcess()).isEqualTo(1);
  }

  @Test
  void aServerThatAlreadyMadeItsCallsMovesWithThemIntoTheLateClientsTrace() {
    // curl preempted by the nginx it woke: nginx reads, calls its backend and answers before
    // curl's write is reported
    EventScript client = new EventScript(90, 50090, 8080, 5151);
    EventScript server = new EventScript(91, 8080, 50090);
    EventScript back = new EventScript(92, 50092, 9090);
    EventScript backend = new EventScript(93, 9090, 50092, 6161);
    pipeline.onEvent(client.open(Role.CLIENT));
    pipeline.onEvent(server.open(Role.SERVER));
    pipeline.onEvent(back.open(Role.CLIENT));
    pipeline.onEvent(backend.open(Role.SERVER));
    pipeline.onEvent(server.in("GET /front HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(back.out("GET /back HTTP/1.1\nHost: b\n\n"));
    pipeline.onEvent(backend.in("GET /back HTTP/1.1\nHost: b\n\n"));
    pipeline.onEvent(backend.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(back.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.afterBatch();
    assertThat(sink.exchanges).as("the provisional trace waits whole").isEmpty();
    pipeline.onEvent(client.out("GET /front HTTP/1.1\nHost: h\n\n"));
    assertThat(sink.exchanges).hasSize(3);
    pipeline.onEvent(client.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));

    var curl = exchange("/front", Role.CLIENT).ids();
    var front = exchange("/front", Role.SERVER).ids();
    var call = exchange("/back", Role.CLIENT).ids();
    var served = exchange("/back", Role.SERVER).ids();
    assertThat(curl.hasParent()).isFalse();
    assertThat(front.parentSpanId()).isEqualTo(curl.spanId());
    assertThat(call.parentSpanId()).isEqualTo(front.spanId());
    assertThat(served.parentSpanId()).isEqualTo(call.spanId());
    for (var ids : java.util.List.of(front, call, served)) {
      assertThat(ids.traceIdHex()).isEqualTo(curl.traceIdHex());
      assertThat(ids.sampled()).isEqualTo(curl.sampled());
    }
    assertThat(stats().linksCrossProcess()).isEqualTo(2);
  }

  @Test
  void aCallMadeAfterTheRenameJoinsTheClientsTraceToo() {
    EventScript client = new EventScript(150, 50150, 8080, 5151);
    EventScript server = new EventScript(151, 8080, 50150);
    EventScript back = new EventScript(152, 50152, 9090);
    pipeline.onEvent(client.open(Role.CLIENT));
    pipeline.onEvent(server.open(Role.SERVER));
    pipeline.onEvent(back.open(Role.CLIENT));
    pipeline.onEvent(server.in("GET /front HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(back.out("GET /one HTTP/1.1\nHost: b\n\n"));
    pipeline.onEvent(client.out("GET /front HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(back.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(back.out("GET /two HTTP/1.1\nHost: b\n\n"));
    pipeline.onEvent(back.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.onEvent(client.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));

    var curl = exchange("/front", Role.CLIENT).ids();
    var front = exchange("/front", Role.SERVER).ids();
    for (String call : new String[] {"/one", "/two"}) {
      assertThat(exchange(call, Role.CLIENT).ids().parentSpanId()).as(call).isEqualTo(front.spanId());
      assertThat(exchange(call, Role.CLIENT).ids().traceIdHex()).as(call).isEqualTo(curl.traceIdHex());
    }
    assertThat(front.parentSpanId()).isEqualTo(curl.spanId());
  }

  @Test
  void aServerWhoseClientNeverWritesLeavesWhenTheWindowEndsCounted() {
    EventScript client = new EventScript(100, 50100, 8080, 5151); // curl, a process of its own
    EventScript server = new EventScript(101, 8080, 50100);
    pipeline.onEvent(client.open(Role.CLIENT));
    pipeline.onEvent(server.open(Role.SERVER));
    pipeline.onEvent(server.in("GET /w HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    now += 299_000_000L;
    pipeline.afterBatch();
    assertThat(reported("/w", Role.SERVER)).as("within the window").isFalse();
    now += 1_000_000L;
    pipeline.afterBatch();
    assertThat(reported("/w", Role.SERVER)).isTrue();
    assertThat(exchange("/w", Role.SERVER).ids().hasParent()).isFalse();
    // the client's write, too late, finds nothing to link
    pipeline.onEvent(client.out("GET /w HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(client.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    assertThat(sink.exchanges).hasSize(2);
    PipelineStats stats = stats();
    assertThat(stats.linksWindowExpired()).isEqualTo(1);
    assertThat(stats.linksCrossProcess()).isZero();
  }

  @Test
  void aServerWhosePeerIsNotOnThisHostLeavesAtOnce() {
    EventScript server = new EventScript(111, new java.net.InetSocketAddress("10.0.0.5", 8080),
        new java.net.InetSocketAddress("10.0.0.9", 50110), EventScript.PID);
    pipeline.onEvent(server.open(Role.SERVER));
    pipeline.onEvent(server.in("GET /alone HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    assertThat(reported("/alone", Role.SERVER)).isTrue();
  }

  @Test
  void aClientReportedWithItsFirstBytesAfterTheServersReadIsStillLinked() {
    // the socket capture announces a connection with its first data: here after the server read it
    EventScript client = new EventScript(130, 50130, 8080, 5151);
    EventScript server = new EventScript(131, 8080, 50130);
    pipeline.onEvent(server.open(Role.SERVER));
    pipeline.onEvent(server.in("GET /first HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.afterBatch();
    assertThat(reported("/first", Role.SERVER)).isFalse();
    pipeline.onEvent(client.open(Role.CLIENT));
    pipeline.onEvent(client.out("GET /first HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(client.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    assertThat(exchange("/first", Role.SERVER).ids().parentSpanId()).isEqualTo(exchange("/first", Role.CLIENT).ids().spanId());
    assertThat(stats().linksCrossProcess()).isEqualTo(1);
  }

  @Test
  void aServerWhoseLocalPeerIsNotTracedWaitsOnlyBrieflyUncounted() {
    EventScript server = new EventScript(141, 8080, 50140); // its client (wrk, say) is not traced
    pipeline.onEvent(server.open(Role.SERVER));
    pipeline.onEvent(server.in("GET /untraced HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    now += 49_000_000L;
    pipeline.afterBatch();
    assertThat(reported("/untraced", Role.SERVER)).isFalse();
    now += 1_000_000L;
    pipeline.afterBatch();
    assertThat(reported("/untraced", Role.SERVER)).isTrue();
    assertThat(exchange("/untraced", Role.SERVER).ids().hasParent()).isFalse();
    assertThat(stats().linksWindowExpired()).as("nothing was missed").isZero();
  }

  /**
   * A keep-alive connection from a load generator this host does not trace (a pid filter on the
   * server): its first requests wait the window for the client to announce itself, those after it
   * wait for nothing; a new connection, from another port, waits again, and a traced client that
   * announces itself within the window is still linked.
   */
  @Test
  void aLocalPeerThatStayedUnannouncedPastTheWindowHoldsNoMoreOfItsConnectionsRequests() {
    EventScript server = new EventScript(151, 8080, 50150);
    pipeline.onEvent(server.open(Role.SERVER));
    pipeline.onEvent(server.in("GET /u1 HTTP/1.1\nHost: h\n\nGET /u2 HTTP/1.1\nHost: h\n\n")); // pipelined
    pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\nHTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    now += 30_000_000L;
    pipeline.onEvent(server.in("GET /u3 HTTP/1.1\nHost: h\n\n")); // still within the window: waits too
    pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.afterBatch();
    assertThat(sink.exchanges).isEmpty();
    now += 21_000_000L;
    pipeline.afterBatch();
    assertThat(reported("/u1", Role.SERVER)).isTrue();
    assertThat(reported("/u2", Role.SERVER)).isTrue();
    assertThat(reported("/u3", Role.SERVER)).isFalse(); // its own window ends 30 ms later
    for (int i = 4; i <= 6; i++) {
      pipeline.onEvent(server.in("GET /u" + i + " HTTP/1.1\nHost: h\n\n"));
      pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    }
    pipeline.afterBatch(); // no time passed: reported at once
    assertThat(sink.exchanges).extracting(e -> e.request().target()).containsExactly("/u1", "/u2", "/u4", "/u5", "/u6");
    assertThat(exchange("/u5", Role.SERVER).ids().hasParent()).isFalse();
    assertThat(dev.spanwire.exporter.trace.SpanIdentitiesAccess.held(pipeline.identities())).isEqualTo(1); // /u3

    // another connection, its client traced and announced within the window: linked
    EventScript server2 = new EventScript(152, 8080, 50152);
    EventScript client2 = new EventScript(153, 50152, 8080, 5153);
    pipeline.onEvent(server2.open(Role.SERVER));
    pipeline.onEvent(server2.in("GET /t1 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(server2.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    pipeline.afterBatch();
    assertThat(reported("/t1", Role.SERVER)).isFalse();
    now += 10_000_000L;
    pipeline.onEvent(client2.open(Role.CLIENT));
    pipeline.onEvent(client2.out("GET /t1 HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(client2.in("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    assertThat(exchange("/t1", Role.SERVER).ids().parentSpanId()).isEqualTo(exchange("/t1", Role.CLIENT).ids().spanId());

    // the untraced peer's connection closes: what was learned of it goes (a connection id is never reused)
    pipeline.onEvent(server.close());
    pipeline.afterBatch();
    assertThat(dev.spanwire.exporter.trace.SpanIdentitiesAccess.unknownPeers(pipeline.identities())).isEqualTo(1); // server2's
    assertThat(stats().linksWindowExpired()).as("nothing was missed").isZero();
  }

  @Test
  void heldServerExchangesLeaveAtShutdown() {
    EventScript client = new EventScript(120, 50120, 8080, 5151); // curl, a process of its own
    EventScript server = new EventScript(121, 8080, 50120);
    pipeline.onEvent(client.open(Role.CLIENT));
    pipeline.onEvent(server.open(Role.SERVER));
    for (String path : new String[] {"/s1", "/s2", "/s3"}) {
      pipeline.onEvent(server.in("GET " + path + " HTTP/1.1\nHost: h\n\n"));
      pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    }
    pipeline.afterBatch();
    assertThat(sink.exchanges).isEmpty();
    pipeline.closeAll();
    assertThat(sink.exchanges).extracting(e -> e.request().target()).containsExactly("/s1", "/s2", "/s3");
    assertThat(stats().linksWindowExpired()).isEqualTo(3);
  }

  @Test
  void aProvisionalTraceHoldingTooManyExchangesGivesUpWaitingAndReleasesThemAll() {
    EventScript client = new EventScript(160, 50160, 8080, 5151);
    EventScript server = new EventScript(161, 8080, 50160);
    EventScript back = new EventScript(162, 50162, 9090);
    pipeline.onEvent(client.open(Role.CLIENT));
    pipeline.onEvent(server.open(Role.SERVER));
    pipeline.onEvent(back.open(Role.CLIENT));
    pipeline.onEvent(server.in("GET /busy HTTP/1.1\nHost: h\n\n"));
    int calls = dev.spanwire.exporter.trace.SpanIdentitiesAccess.maxHeldPerTrace();
    for (int i = 0; i < calls - 1; i++) {
      pipeline.onEvent(back.out("GET /c" + i + " HTTP/1.1\nHost: b\n\n"));
      pipeline.onEvent(back.in("HTTP/1.1 204 No Content\n\n"));
    }
    assertThat(sink.exchanges).as("all held while the trace waits").isEmpty();
    pipeline.onEvent(back.out("GET /last HTTP/1.1\nHost: b\n\n"));
    pipeline.onEvent(back.in("HTTP/1.1 204 No Content\n\n"));
    assertThat(sink.exchanges).as("the bound reached: everything leaves as it is").hasSize(calls);
    pipeline.onEvent(server.out("HTTP/1.1 200 OK\nContent-Length: 0\n\n"));
    assertThat(reported("/busy", Role.SERVER)).isTrue();
    assertThat(stats().linksWindowExpired()).isEqualTo(calls);
  }

  @Test
  void heldExchangesWithCapturedBodiesPastTheHeapBoundMakeTheOldestTraceGiveUpFirst() {
    // each backend answer carries a 10,000-byte body, captured whole; the held exchanges may hold
    // 25,000 bytes: two such exchanges fit, a third does not
    pipeline = new ConnectionTracker(sink, PipelineSettings.defaults().withBodyCaptureBytes(16_384)
        .withTraces(dev.spanwire.exporter.trace.TraceSettings.defaults().withMaxHeldBytes(25_000)),
        new ProcessRegistry(proc), () -> now);
    String answer = "HTTP/1.1 200 OK\nContent-Length: 10000\n\n" + "x".repeat(10_000);
    EventScript clientA = new EventScript(170, 50170, 8080, 5151);
    EventScript serverA = new EventScript(171, 8080, 50170);
    EventScript backA = new EventScript(172, 50172, 9090);
    EventScript clientB = new EventScript(173, 50173, 8080, 5252);
    EventScript serverB = new EventScript(174, 8080, 50173, 6262);
    EventScript backB = new EventScript(175, 50175, 9090, 6262);
    for (EventScript client : new EventScript[] {clientA, clientB}) {
      pipeline.onEvent(client.open(Role.CLIENT));
    }
    for (EventScript server : new EventScript[] {serverA, serverB}) {
      pipeline.onEvent(server.open(Role.SERVER));
    }
    pipeline.onEvent(backA.open(Role.CLIENT));
    pipeline.onEvent(backB.open(Role.CLIENT));
    // A's server request comes first, then B's: each waits for its client's write
    pipeline.onEvent(serverA.in("GET /a HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(backA.out("GET /a-call HTTP/1.1\nHost: b\n\n"));
    pipeline.onEvent(backA.in(answer));
    pipeline.onEvent(serverB.in("GET /b HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(backB.out("GET /b-call-1 HTTP/1.1\nHost: b\n\n"));
    pipeline.onEvent(backB.in(answer));
    assertThat(sink.exchanges).as("two bodies held, within the bound").isEmpty();
    pipeline.onEvent(backB.out("GET /b-call-2 HTTP/1.1\nHost: b\n\n"));
    pipeline.onEvent(backB.in(answer));
    assertThat(sink.summary()).as("past the bound: the oldest trace (A's) left, B's two still fit").containsExactly(
        "GET /a-call -> 200");
    assertThat(sink.exchanges.get(0).response().bodyPrefix()).hasSize(10_000);
    assertThat(stats().linksWindowExpired()).isEqualTo(1);
    // B's client write comes: what B held joins its trace
    pipeline.onEvent(clientB.out("GET /b HTTP/1.1\nHost: h\n\n"));
    pipeline.onEvent(serverB.out("HTTP/1.1 204 No Content\n\n"));
    pipeline.onEvent(clientB.in("HTTP/1.1 204 No Content\n\n"));
    pipeline.afterBatch();
    Exchange client = exchange("/b", Role.CLIENT);
    Exchange server = exchange("/b", Role.SERVER);
    assertThat(server.ids().parentSpanId()).isEqualTo(client.ids().spanId());
    for (String call : new String[] {"/b-call-1", "/b-call-2"}) {
      assertThat(exchange(call, Role.CLIENT).ids().traceIdLow()).as(call).isEqualTo(client.ids().traceIdLow());
      assertThat(exchange(call, Role.CLIENT).ids().parentSpanId()).as(call).isEqualTo(server.ids().spanId());
    }
    assertThat(stats().linksWindowExpired()).isEqualTo(1);
    assertThat(stats().linksCrossProcess()).isEqualTo(1);
  }
}
