package dev.spanwire.exporter.protocol;

import dev.spanwire.bpf.Direction;
import dev.spanwire.exporter.protocol.http1.Http1Protocol;
import dev.spanwire.exporter.protocol.http2.Http2Protocol;
import java.util.List;

/** The protocols the pipeline knows, and which one a connection speaks. */
public final class Protocols {
  /**
   * THE registration list: every protocol Spanwire parses, in the order detection tries them. A
   * new protocol is a package of its own and one line here. The last one also takes connections
   * nothing detects but the port list traces.
   */
  public static final List<Protocol> REGISTERED = List.of(Http2Protocol.INSTANCE, Http1Protocol.INSTANCE);

  private final List<Protocol> protocols;

  public Protocols(List<Protocol> protocols) {
    if (protocols.isEmpty()) {
      throw new IllegalArgumentException("at least one protocol");
    }
    this.protocols = List.copyOf(protocols);
  }

  public static Protocols registered() {
    return new Protocols(REGISTERED);
  }

  /** The protocol whose start these first bytes are, or null. */
  public Protocol detect(byte[] firstPayload, Direction direction) {
    for (Protocol protocol : protocols) {
      if (protocol.detects(firstPayload, direction)) {
        return protocol;
      }
    }
    return null;
  }

  /**
   * Whether to wait for more bytes before detecting: a protocol may still begin with these, too
   * few for it to tell, and no protocol tried before it detects them ("PRI " waits for HTTP/2's
   * preface although HTTP/1 would take it; "GET" waits for its space).
   */
  public boolean waitsForMore(byte[] firstBytes, Direction direction) {
    for (Protocol protocol : protocols) {
      if (protocol.detects(firstBytes, direction)) {
        return false;
      }
      if (protocol.mayStart(firstBytes, direction)) {
        return true;
      }
    }
    return false;
  }

  /** The protocol for connections traced by port whose first bytes nothing detects. */
  public Protocol fallback() {
    return protocols.getLast();
  }

  /** The registered protocol of this name, or null. */
  public Protocol named(String name) {
    for (Protocol protocol : protocols) {
      if (protocol.answersTo(name)) {
        return protocol;
      }
    }
    return null;
  }

  @Override
  public String toString() {
    return "Protocols" + protocols.stream().map(Protocol::name).toList();
  }
}
