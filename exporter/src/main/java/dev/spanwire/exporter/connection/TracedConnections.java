package dev.spanwire.exporter.connection;

import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which of the connections the kernel passes on the pipeline follows: those of processes whose
 * command name {@code comm} finds a match in, and of those, the ones on one of {@code ports}
 * (either end) and the ones whose first payload {@code protocol} finds a match in (AppScope's
 * protocol detection).
 *
 * @param comm command-name filter, or null for every process
 * @param ports connections to or from these ports are followed whatever their first bytes
 * @param allPorts every port is such a port
 * @param protocol the detection regex for connections on other ports
 * @param detectEvents report each detection (AppScope's {@code remote_protocol} event)
 */
public record TracedConnections(Pattern comm, Set<Integer> ports, boolean allPorts, Pattern protocol, boolean detectEvents) {
  /** The trace_http gadget's ports. */
  public static final List<Integer> DEFAULT_PORTS = List.of(80, 443, 8080, 8443);
  /** AppScope's built-in HTTP detection regex. */
  public static final String DEFAULT_PROTOCOL = "HTTP\\/1\\.[0-2]|PRI \\* HTTP\\/2\\.0\r\n\r\nSM\r\n\r\n";
  /** Payload bytes the detection regex looks at. */
  static final int DETECT_BYTES = 4096;

  public TracedConnections {
    ports = Set.copyOf(ports);
  }

  public static TracedConnections defaults() {
    return new TracedConnections(null, Set.copyOf(DEFAULT_PORTS), false, Pattern.compile(DEFAULT_PROTOCOL), false);
  }

  boolean followsProcess(String commandName) {
    return comm == null || comm.matcher(commandName).find();
  }

  boolean onListedPort(int localPort, int remotePort) {
    return allPorts || ports.contains(localPort) || ports.contains(remotePort);
  }

  /**
   * Whether the first payload looks like the protocol (read as ISO-8859-1, one char a byte). The
   * default regex is found by a scan of the bytes that matches exactly what it matches: a new
   * connection's string, matcher and the regex engine's scan were a twentieth of the pipeline's
   * CPU under a load of one request per connection.
   */
  boolean detects(byte[] payload) {
    int n = Math.min(payload.length, DETECT_BYTES);
    if (protocol.flags() == 0 && protocol.pattern().equals(DEFAULT_PROTOCOL)) {
      return findsDefault(payload, n);
    }
    return protocol.matcher(new String(payload, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1)).find();
  }

  private static final byte[] HTTP1_VERSION = {'H', 'T', 'T', 'P', '/', '1', '.'};
  private static final byte[] HTTP2_PREFACE = dev.spanwire.exporter.protocol.http2.Http2Protocol.preface();

  /** {@link #DEFAULT_PROTOCOL} found in {@code payload[0, n)}: {@code HTTP/1.} and 0, 1 or 2, or the HTTP/2 preface. */
  static boolean findsDefault(byte[] payload, int n) {
    for (int i = 0; i < n; i++) {
      if (payload[i] == 'H' && i + HTTP1_VERSION.length < n
          && java.util.Arrays.equals(payload, i, i + HTTP1_VERSION.length, HTTP1_VERSION, 0, HTTP1_VERSION.length)) {
        byte minor = payload[i + HTTP1_VERSION.length];
        if (minor >= '0' && minor <= '2') {
          return true;
        }
      } else if (payload[i] == 'P' && i + HTTP2_PREFACE.length <= n
          && java.util.Arrays.equals(payload, i, i + HTTP2_PREFACE.length, HTTP2_PREFACE, 0, HTTP2_PREFACE.length)) {
        return true;
      }
    }
    return false;
  }
}
