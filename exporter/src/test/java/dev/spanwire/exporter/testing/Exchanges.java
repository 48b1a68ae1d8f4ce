package dev.spanwire.exporter.testing;

import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.protocol.http1.Http1Parser;
import dev.spanwire.exporter.protocol.http1.HttpMessage;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Exchanges made from HTTP text through the real parser, for tests of what consumes them. */
public final class Exchanges {
  /** The pipeline's span identity stage, deciding ids the way it does at pairing. */
  private static final dev.spanwire.exporter.trace.SpanIdentities IDS =
      new dev.spanwire.exporter.trace.SpanIdentities(new java.util.SplittableRandom(7));

  private Exchanges() {}

  public static ProcessInfo process(int pid, String name, String serviceName) {
    return new ProcessInfo(pid, name, name, "/usr/bin/" + name + " --serve", serviceName, null, 1000, 1000);
  }

  /** One message parsed from text (\n becomes CRLF), its bytes moving at {@code nanos}. */
  public static HttpMessage message(String text, boolean request, String requestMethod, long nanos) {
    List<HttpMessage> out = new ArrayList<>();
    Http1Parser parser = new Http1Parser(request ? Http1Parser.Mode.REQUESTS : Http1Parser.Mode.RESPONSES,
        new Http1Parser.Listener() {
          @Override
          public Http1Parser.HeadAction onResponseHead(int statusCode) {
            return "HEAD".equals(requestMethod) ? Http1Parser.HeadAction.NO_BODY : Http1Parser.HeadAction.BODY;
          }

          @Override
          public void onMessage(HttpMessage message) {
            out.add(message);
          }
        });
    byte[] bytes = text.replace("\n", "\r\n").getBytes(StandardCharsets.ISO_8859_1);
    parser.feed(bytes, 0, bytes.length, 0, nanos);
    parser.close(nanos);
    if (out.size() != 1) {
      throw new AssertionError("expected one message in " + text + ", got " + out);
    }
    return out.getFirst();
  }

  private static final java.net.InetAddress LOOPBACK = java.net.InetAddress.ofLiteral("127.0.0.1");

  /**
   * An exchange of {@code process} in {@code role} on a loopback connection to port 8080; the
   * request at {@code startNanos}, the response {@code durationNanos} later.
   */
  public static Exchange exchange(ProcessInfo process, Role role, long connectionId, String request, String response,
      long startNanos, long durationNanos) {
    // one address object for all, as the capture hands out one per peer
    InetSocketAddress server = new InetSocketAddress(LOOPBACK, 8080);
    InetSocketAddress client = new InetSocketAddress(LOOPBACK, 40000 + (int) connectionId);
    ConnectionInfo connection = role == Role.SERVER
        ? new ConnectionInfo(connectionId, server, client, role, process)
        : new ConnectionInfo(connectionId, client, server, role, process);
    HttpMessage q = message(request, true, null, startNanos);
    HttpMessage r = response == null ? null : message(response, false, q.method(), startNanos + durationNanos);
    return new Exchange(connection, process.pid(), "HTTP", q.flavor(), -1, q, r, IDS.ids(q));
  }
}
