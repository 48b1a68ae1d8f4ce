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

  /** Whether the first payload looks like the protocol (read as ISO-8859-1, one char a byte). */
  boolean detects(byte[] payload) {
    int n = Math.min(payload.length, DETECT_BYTES);
    return protocol.matcher(new String(payload, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1)).find();
  }
}
