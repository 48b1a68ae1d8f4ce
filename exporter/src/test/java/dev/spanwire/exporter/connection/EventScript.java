package dev.spanwire.exporter.connection;

import dev.spanwire.bpf.ConnectionClosed;
import dev.spanwire.bpf.ConnectionOpened;
import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.Role;
import dev.spanwire.bpf.Source;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Builds the events the kernel would send for one connection: positions advance per direction,
 * timestamps by one microsecond per event. Text uses \n for CRLF.
 */
final class EventScript {
  static final int PID = 4242;
  private final int pid;
  private final long connectionId;
  private final InetSocketAddress local;
  private final InetSocketAddress remote;
  private final long[] positions = new long[2];
  private final long[] tlsPositions = new long[2];
  private long now = 1_000_000_000L;

  EventScript(long connectionId, int localPort, int remotePort) {
    this(connectionId, localPort, remotePort, PID);
  }

  /** The same in another process ({@code pid}, its thread {@code pid + 1}). */
  EventScript(long connectionId, int localPort, int remotePort, int pid) {
    this(connectionId, new InetSocketAddress("127.0.0.1", localPort), new InetSocketAddress("127.0.0.1", remotePort), pid);
  }

  /** A connection between any two addresses. */
  EventScript(long connectionId, InetSocketAddress local, InetSocketAddress remote, int pid) {
    this.pid = pid;
    this.connectionId = connectionId;
    this.local = local;
    this.remote = remote;
  }

  /** A server-side connection (accepted on port 8080). */
  static EventScript server(long id) {
    return new EventScript(id, 8080, 50000 + (int) id);
  }

  /** A client-side connection (to port 8080). */
  static EventScript client(long id) {
    return new EventScript(id, 50000 + (int) id, 8080);
  }

  long now() {
    return now;
  }

  /** The next event comes {@code nanos} later. */
  void pause(long nanos) {
    now += nanos;
  }

  ConnectionOpened open(Role role) {
    return new ConnectionOpened(connectionId, pid, pid, 5, tick(), 0, 0, local, remote, role, "server", "/usr/bin/server\0--port\08080");
  }

  /** The open of a socket the kernel found at its first HTTP-looking data (from before the agent). */
  ConnectionOpened openJoined(Role role) {
    return new ConnectionOpened(connectionId, pid, pid, 5, tick(), 0, 0, local, remote, role, "server",
        "/usr/bin/server\0--port\08080", 0, true);
  }

  /** What the kernel's connection table holds for this connection now. */
  dev.spanwire.bpf.KernelConnection kernelEntry(Role role) {
    return new dev.spanwire.bpf.KernelConnection(connectionId, local, remote, role, positions[0], positions[1], 0, 0, 0, false);
  }

  long connectionId() {
    return connectionId;
  }

  /** Data whose syscall before it moved bytes the kernel could not see (its arguments found no room). */
  DataCaptured afterUnseenSyscall(Direction direction, String text) {
    DataCaptured d = data(direction, http(text));
    return new DataCaptured(d.connectionId(), d.pid(), d.tid(), d.fd(), d.timestampNanos(), d.direction(), d.source(),
        d.position(), d.length(), d.payload(), true, false);
  }

  ConnectionClosed close() {
    return new ConnectionClosed(connectionId, pid, pid, 5, tick(), positions[0], positions[1], tlsPositions[0], tlsPositions[1]);
  }

  /** The close, {@code nanos} after the last event. */
  ConnectionClosed closeAfter(long nanos) {
    now += nanos;
    return close();
  }

  static byte[] http(String text) {
    return text.replace("\n", "\r\n").getBytes(StandardCharsets.ISO_8859_1);
  }

  DataCaptured in(String text) {
    return data(Direction.INGRESS, http(text));
  }

  DataCaptured out(String text) {
    return data(Direction.EGRESS, http(text));
  }

  DataCaptured data(Direction direction, byte[] bytes) {
    return data(direction, bytes, bytes.length);
  }

  /** {@code length} bytes moved, of which only {@code captured} are carried. */
  DataCaptured data(Direction direction, byte[] captured, int length) {
    int d = direction.ordinal();
    long position = positions[d];
    positions[d] += length;
    return new DataCaptured(
        connectionId, pid, pid + 1, 5, tick(), direction,
        direction == Direction.EGRESS ? Source.WRITE : Source.READ, position, length, captured);
  }

  /** Plaintext a TLS library wrote or read: positions of its own. */
  DataCaptured tls(Direction direction, String text) {
    byte[] bytes = http(text);
    int d = direction.ordinal();
    long position = tlsPositions[d];
    tlsPositions[d] += bytes.length;
    return new DataCaptured(connectionId, pid, pid + 1, 5, tick(), direction,
        direction == Direction.EGRESS ? Source.WRITE : Source.READ, position, bytes.length, bytes, false, true);
  }

  /** Bytes that moved but whose event was lost: only the position advances. */
  void lose(Direction direction, long bytes) {
    positions[direction.ordinal()] += bytes;
    tick();
  }

  /** The first {@code captured} bytes of {@code bytes}, as a capture-size-limited event. */
  DataCaptured truncated(Direction direction, byte[] bytes, int captured) {
    return data(direction, Arrays.copyOf(bytes, captured), bytes.length);
  }

  private long tick() {
    return now += 1000;
  }
}
