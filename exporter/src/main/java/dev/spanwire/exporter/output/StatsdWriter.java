package dev.spanwire.exporter.output;

import dev.spanwire.exporter.counters.Counter;
import dev.spanwire.exporter.output.MetricsSink.Dimension;
import dev.spanwire.exporter.output.MetricsSink.Point;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;

/**
 * StatsD lines with DogStatsD tags, as AppScope writes them
 * ({@code http.requests:3|c|#proc:curl,pid:123,http_method:GET,http_status_code:200,http_target:/a}),
 * several to a datagram of at most {@link #MAX_DATAGRAM} bytes. Timers carry the interval's mean
 * with a sample rate of 1/numops, so a StatsD server counts every exchange. The socket never blocks:
 * a datagram the kernel will not take, or an error the address reported (nothing listening), drops
 * its lines, counted.
 */
final class StatsdWriter implements MetricsSink.Writer {
  /** Below the common 1,500-byte MTU less IP and UDP headers, as StatsD clients keep them. */
  static final int MAX_DATAGRAM = 1432;

  /** Sends one datagram; false or an exception when it did not go. */
  interface Sender {
    boolean send(ByteBuffer datagram) throws IOException;

    default void close() {}
  }

  private final Sender sender;
  private final Counter droppedLines;
  private final ByteBuffer datagram = ByteBuffer.allocate(MAX_DATAGRAM);
  private int linesInDatagram;
  private final StringBuilder line = new StringBuilder(256);

  /** @param droppedLines counts lines that did not go (this writer's thread writes it) */
  StatsdWriter(Sender sender, Counter droppedLines) {
    this.sender = sender;
    this.droppedLines = droppedLines;
  }

  /** A sender on a non-blocking UDP socket connected to {@code address}. */
  static Sender udp(InetSocketAddress address) throws IOException {
    DatagramChannel channel = DatagramChannel.open();
    channel.configureBlocking(false);
    channel.connect(address);
    return new Sender() {
      @Override
      public boolean send(ByteBuffer datagram) throws IOException {
        return channel.write(datagram) > 0;
      }

      @Override
      public void close() {
        try {
          channel.close();
        } catch (IOException ignored) {
          // nothing to keep
        }
      }
    };
  }

  @Override
  public void write(Point point, long epochNanos) {
    line.setLength(0);
    line.append(point.metric()).append(':');
    JsonMetricWriter.number(line, point.value());
    line.append('|').append(switch (point.type()) {
      case "counter" -> "c";
      case "timer" -> "ms";
      default -> "g";
    });
    if (point.type().equals("timer") && point.numops() > 1) {
      line.append("|@").append(Math.round(1e6 / point.numops()) / 1e6);
    }
    line.append("|#proc:");
    tag(line, point.process().comm());
    line.append(",pid:").append(point.process().pid());
    for (Dimension dim : point.dims()) {
      line.append(',').append(dim.name()).append(':');
      tag(line, String.valueOf(dim.value()));
    }
    byte[] bytes = line.toString().getBytes(StandardCharsets.UTF_8);
    int needed = bytes.length + (linesInDatagram > 0 ? 1 : 0);
    if (needed > datagram.remaining()) {
      flush();
    }
    if (bytes.length > MAX_DATAGRAM) {
      droppedLines.increment(); // one line longer than a datagram: it cannot go
      return;
    }
    if (linesInDatagram > 0) {
      datagram.put((byte) '\n');
    }
    datagram.put(bytes);
    linesInDatagram++;
  }

  /** A tag value: the characters that separate tags and fields become underscores. */
  private static void tag(StringBuilder out, String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      out.append(c == ',' || c == '|' || c == '#' || c == '\n' || c == '\r' ? '_' : c);
    }
  }

  @Override
  public void flush() {
    if (linesInDatagram == 0) {
      return;
    }
    datagram.flip();
    boolean sent;
    try {
      sent = sender.send(datagram);
    } catch (IOException e) {
      sent = false; // e.g. the port answered unreachable: nothing listens there now
    }
    if (!sent) {
      droppedLines.add(linesInDatagram);
    }
    datagram.clear();
    linesInDatagram = 0;
  }

  @Override
  public void close() {
    flush();
    sender.close();
  }
}
