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

  private static final byte[] RESPONSE_START = {'H', 'T', 'T', 'P', '/'};

  /**
   * Whether first bytes (1 to 15), too few for {@link #detects}, may still begin a message: a
   * method token so far, or the beginning of "HTTP/".
   */
  @Override
  public boolean mayStart(byte[] firstBytes, Direction direction) {
    if (firstBytes.length < 1 || firstBytes.length >= 16) {
      return false;
    }
    boolean response = true;
    boolean token = true;
    for (int i = 0; i < firstBytes.length; i++) {
      int c = firstBytes[i];
      response &= i < RESPONSE_START.length && c == RESPONSE_START[i];
      token &= (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
    }
    return token || response;
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
