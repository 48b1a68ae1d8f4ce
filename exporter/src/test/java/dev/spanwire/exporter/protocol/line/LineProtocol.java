package dev.spanwire.exporter.protocol.line;

import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.Headers;
import dev.spanwire.exporter.exchange.Request;
import dev.spanwire.exporter.exchange.Response;
import dev.spanwire.exporter.protocol.Protocol;
import dev.spanwire.exporter.protocol.ProtocolSession;
import dev.spanwire.exporter.protocol.SessionContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

/**
 * A protocol that exists only in the tests, to show what adding one takes: a package, and one
 * entry in a registration list. The client writes {@code PING <id>\n}, the server answers
 * {@code PONG <id>\n}; an exchange is a ping and its pong (status 200), or 409 when the ids differ.
 */
public final class LineProtocol implements Protocol {
  public static final LineProtocol INSTANCE = new LineProtocol();

  @Override
  public String name() {
    return "line";
  }

  @Override
  public boolean detects(byte[] firstPayload, Direction direction) {
    return new String(firstPayload, StandardCharsets.US_ASCII).startsWith("PING ");
  }

  @Override
  public ProtocolSession open(SessionContext context) {
    return new Session(context);
  }

  private static final class Session implements ProtocolSession {
    private final SessionContext context;
    private final StringBuilder[] lines = {new StringBuilder(), new StringBuilder()};
    private final ArrayDeque<Request> pings = new ArrayDeque<>();

    Session(SessionContext context) {
      this.context = context;
      context.learnRole(Role.CLIENT);
    }

    @Override
    public int onBytes(Direction direction, byte[] data, int offset, int length, long position, long timestampNanos) {
      StringBuilder line = lines[direction.ordinal()];
      for (int i = offset; i < offset + length; i++) {
        if (data[i] != '\n') {
          line.append((char) data[i]);
          continue;
        }
        String text = line.toString();
        line.setLength(0);
        String id = text.substring(text.indexOf(' ') + 1);
        if (text.startsWith("PING ")) {
          Request ping = new Request.Simple("PING", id, null, null, Headers.NONE, -1, 0, false, null, false,
              timestampNanos, timestampNanos, timestampNanos, false);
          context.request("1", ping);
          pings.add(ping);
        } else if (text.startsWith("PONG ") && !pings.isEmpty()) {
          Request ping = pings.poll();
          Response pong = new Response.Simple(id.equals(ping.target()) ? 200 : 409, "", "1", Headers.NONE, -1, 0, false,
              null, false, timestampNanos, timestampNanos, timestampNanos, false);
          context.exchange(new Exchange(context.connection(), context.lastTid(Direction.EGRESS), "LINE", "1", -1, ping, pong,
              context.ids(ping)));
        }
      }
      return length;
    }

    @Override
    public void onSkipped(Direction direction, long count, long position, long timestampNanos) {}

    @Override
    public void onGap(Direction direction, long count, long position, long timestampNanos) {
      pings.clear();
    }

    @Override
    public void onClose(long timestampNanos) {}

    @Override
    public void onStop() {}

    @Override
    public void onEvict() {}
  }
}
