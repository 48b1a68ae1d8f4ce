package dev.spanwire.exporter.output;

import dev.spanwire.bpf.ConnectionClosed;
import dev.spanwire.bpf.ConnectionOpened;
import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.ProcessExecuted;
import dev.spanwire.bpf.ProcessExited;
import dev.spanwire.bpf.SocketEvent;
import dev.spanwire.bpf.SocketEventHandler;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code --output raw}: one line per captured syscall (time, comm, pid, tuple, direction,
 * length, first bytes escaped), to see the capture itself at work. Runs on the capture thread.
 */
public final class RawEventPrinter implements SocketEventHandler {
  static final int PREVIEW_BYTES = 64;

  private final PrintStream out;
  private final KernelClock clock;
  private final Map<Long, ConnectionOpened> connections = new HashMap<>();
  private final StringBuilder line = new StringBuilder(256);

  public RawEventPrinter(PrintStream out, KernelClock clock) {
    this.out = out;
    this.clock = clock;
  }

  @Override
  public void onEvent(SocketEvent event) {
    switch (event) {
      case ConnectionOpened opened -> connections.put(opened.connectionId(), opened);
      case ConnectionClosed closed -> connections.remove(closed.connectionId());
      case DataCaptured data -> print(data);
      case ProcessExited exited -> connections.values().removeIf(c -> c.pid() == exited.pid());
      case ProcessExecuted executed -> {}
    }
  }

  @Override
  public void afterBatch() {
    out.flush();
  }

  private void print(DataCaptured data) {
    ConnectionOpened connection = connections.get(data.connectionId());
    line.setLength(0);
    line.append(clock.toInstant(data.timestampNanos())).append(' ');
    line.append(connection == null ? "?" : Escaping.terminal(connection.comm())).append(' ');
    line.append(data.pid()).append(' ');
    if (connection != null) {
      line.append(Tuples.format(connection.local())).append(" -> ").append(Tuples.format(connection.remote()));
    } else {
      line.append("conn ").append(data.connectionId());
    }
    line.append(' ').append(data.direction() == dev.spanwire.bpf.Direction.EGRESS ? "out" : "in ");
    line.append(' ').append(data.source().name().toLowerCase(java.util.Locale.ROOT));
    line.append(" pos ").append(data.position()).append(" len ").append(data.length());
    line.append(" \"");
    Escaping.appendEscaped(line, data.payload(), Math.min(PREVIEW_BYTES, data.payload().length));
    line.append(data.payload().length > PREVIEW_BYTES || data.truncated() ? "\"..." : "\"");
    out.println(line);
  }
}
