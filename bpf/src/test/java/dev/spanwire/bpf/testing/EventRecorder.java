package dev.spanwire.bpf.testing;

import dev.spanwire.bpf.ConnectionClosed;
import dev.spanwire.bpf.ConnectionOpened;
import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.SocketEvent;
import dev.spanwire.bpf.SocketEventHandler;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Records every event of a capture (all processes of the host); tests pick theirs by pid. Thread
 * safe: the capture thread appends, the test thread reads snapshots.
 */
public final class EventRecorder implements SocketEventHandler {
  private final List<SocketEvent> events = new ArrayList<>();

  @Override
  public synchronized void onEvent(SocketEvent event) {
    events.add(event);
  }

  public synchronized List<SocketEvent> snapshot() {
    return List.copyOf(events);
  }

  public synchronized void clear() {
    events.clear();
  }

  /** Connections opened by this process, in arrival order. */
  public List<ConnectionOpened> connections(long pid) {
    return snapshot().stream()
        .filter(e -> e instanceof ConnectionOpened && e.pid() == pid)
        .map(ConnectionOpened.class::cast)
        .toList();
  }

  /** Connections with this port on either end. */
  public List<ConnectionOpened> connectionsOnPort(int port) {
    return snapshot().stream()
        .filter(e -> e instanceof ConnectionOpened o && (o.local().getPort() == port || o.remote().getPort() == port))
        .map(ConnectionOpened.class::cast)
        .toList();
  }

  public List<ConnectionClosed> closes(long connectionId) {
    return snapshot().stream()
        .filter(e -> e instanceof ConnectionClosed && e.connectionId() == connectionId)
        .map(ConnectionClosed.class::cast)
        .toList();
  }

  /** Data events of a connection in one direction, in stream order. */
  public List<DataCaptured> data(long connectionId, Direction direction) {
    return snapshot().stream()
        .filter(e -> e instanceof DataCaptured d && d.connectionId() == connectionId && d.direction() == direction)
        .map(DataCaptured.class::cast)
        .sorted(Comparator.comparingLong(DataCaptured::position))
        .toList();
  }

  /** Stream length seen so far: the end of the last event in this direction. */
  public long streamLength(long connectionId, Direction direction) {
    return data(connectionId, direction).stream()
        .mapToLong(d -> d.position() + d.length())
        .max()
        .orElse(0);
  }

  /**
   * The bytes of one direction, checking that the events start at 0, follow each other without
   * gap or overlap, and were captured whole.
   */
  public byte[] stream(long connectionId, Direction direction) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long expected = 0;
    for (DataCaptured d : data(connectionId, direction)) {
      if (d.position() != expected) {
        throw new AssertionError("connection " + connectionId + " " + direction + ": event at " + d.position() + ", expected " + expected);
      }
      if (d.truncated()) {
        throw new AssertionError("connection " + connectionId + " " + direction + ": truncated event " + d);
      }
      out.writeBytes(d.payload());
      expected += d.length();
    }
    return out.toByteArray();
  }
}
