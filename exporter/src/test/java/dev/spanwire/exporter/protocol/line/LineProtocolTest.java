package dev.spanwire.exporter.protocol.line;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.ConnectionOpened;
import dev.spanwire.bpf.ConnectionTable;
import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Role;
import dev.spanwire.bpf.Source;
import dev.spanwire.exporter.connection.ConnectionTracker;
import dev.spanwire.exporter.connection.PipelineSettings;
import dev.spanwire.exporter.connection.TracedConnections;
import dev.spanwire.exporter.counters.Counters;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ExchangeSink;
import dev.spanwire.exporter.protocol.Protocols;
import dev.spanwire.exporter.protocol.http1.Http1Protocol;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** A protocol registered beside HTTP/1 gets its connections; HTTP/1 keeps its own. */
class LineProtocolTest {
  private final List<Exchange> exchanges = new ArrayList<>();
  private long[] positions = new long[2];
  private long now = 1_000_000;

  private DataCaptured data(long connection, Direction direction, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
    long position = positions[direction.ordinal()];
    positions[direction.ordinal()] += bytes.length;
    return new DataCaptured(connection, 7, 7, 3, now += 1000, direction, Source.WRITE, position, bytes.length, bytes);
  }

  @Test
  void aRegisteredProtocolTakesTheConnectionsItRecognises() {
    PipelineSettings settings = PipelineSettings.defaults()
        .withTraced(new TracedConnections(null, Set.of(), true, Pattern.compile("x"), false));
    ConnectionTracker tracker = new ConnectionTracker(exchanges::add, settings, ConnectionTable.NONE, new Counters(),
        new Protocols(List.of(LineProtocol.INSTANCE, Http1Protocol.INSTANCE)));
    InetSocketAddress local = new InetSocketAddress("127.0.0.1", 40000);
    InetSocketAddress remote = new InetSocketAddress("127.0.0.1", 7000);
    tracker.onEvent(new ConnectionOpened(1, 7, 7, 3, now, 0, 0, local, remote, Role.CLIENT, "pinger", "pinger"));
    tracker.onEvent(data(1, Direction.EGRESS, "PING a\nPING b\n"));
    tracker.onEvent(data(1, Direction.INGRESS, "PONG a\nPO"));
    tracker.onEvent(data(1, Direction.INGRESS, "NG c\n"));

    positions = new long[2];
    tracker.onEvent(new ConnectionOpened(2, 7, 7, 4, now, 0, 0, local, remote, Role.CLIENT, "pinger", "pinger"));
    tracker.onEvent(data(2, Direction.EGRESS, "GET /still-http HTTP/1.1\r\nHost: h\r\n\r\n"));
    tracker.onEvent(data(2, Direction.INGRESS, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    tracker.afterBatch();

    assertThat(exchanges).extracting(e -> e.protocol() + " " + e.request().method() + " " + e.request().target() + " -> " + e.statusCode())
        .containsExactly("LINE PING a -> 200", "LINE PING b -> 409", "HTTP GET /still-http -> 200");
  }
}
