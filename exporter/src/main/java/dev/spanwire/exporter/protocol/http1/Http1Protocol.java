package dev.spanwire.exporter.protocol.http1;

import dev.spanwire.bpf.Direction;
import dev.spanwire.exporter.protocol.Protocol;
import dev.spanwire.exporter.protocol.ProtocolSession;
import dev.spanwire.exporter.protocol.SessionContext;

/** HTTP/1.0 and 1.1: a connection whose first bytes are a request line or a status line. */
public final class Http1Protocol implements Protocol {
  public static final Http1Protocol INSTANCE = new Http1Protocol();
  public static final String NAME = "http1";

  private Http1Protocol() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean detects(byte[] firstPayload, Direction direction) {
    return Http1Parser.startsMessage(firstPayload, 0, firstPayload.length, Http1Parser.Mode.EITHER);
  }

  @Override
  public boolean mayStart(byte[] firstBytes, Direction direction) {
    return Http1Parser.mayStartMessage(firstBytes, 0, firstBytes.length);
  }

  @Override
  public ProtocolSession open(SessionContext context) {
    return new Http1Session(context, context.joinedMidStream());
  }

  @Override
  public String toString() {
    return "HTTP/1";
  }
}
