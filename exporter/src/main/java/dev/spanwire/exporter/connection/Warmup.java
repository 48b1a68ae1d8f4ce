package dev.spanwire.exporter.connection;

import dev.spanwire.bpf.ConnectionClosed;
import dev.spanwire.bpf.ConnectionOpened;
import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.ProcessExecuted;
import dev.spanwire.bpf.Role;
import dev.spanwire.bpf.Source;
import dev.spanwire.exporter.exchange.ExchangeSink;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Runs made-up HTTP/1 and HTTP/2 exchanges through a pipeline of its own before capture starts,
 * so the first real events meet loaded and compiled code: a cold pipeline took some 100 ms over
 * its first exchanges, long enough for a short-lived client to exit before its process was read
 * (its service name then lost). Nothing of it reaches an output.
 */
public final class Warmup {
  private static final int ROUNDS = 40;

  private Warmup() {}

  /** {@code sink} sees the made-up exchanges (give it what the real ones will pass through, minus outputs). */
  public static void run(PipelineSettings settings, ExchangeSink sink) {
    ConnectionTracker pipeline = new ConnectionTracker(sink, settings);
    int pid = (int) ProcessHandle.current().pid();
    InetSocketAddress server = new InetSocketAddress("127.0.0.1", 8080);
    InetSocketAddress client = new InetSocketAddress("127.0.0.1", 50000);
    byte[] request = "GET /warmup/1 HTTP/1.1\r\nHost: warmup\r\nUser-Agent: spanwire\r\nAccept: */*\r\n\r\n"
        .getBytes(StandardCharsets.ISO_8859_1);
    byte[] response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
        .getBytes(StandardCharsets.ISO_8859_1);
    byte[] preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
    byte[] settingsFrame = frame(4, 0, 0, new byte[0]);
    long time = 1;
    for (int round = 0; round < ROUNDS; round++) {
      long id = 2L * round + 1;
      pipeline.onEvent(new ProcessExecuted(pid, pid, time++));
      // HTTP/1: a keep-alive connection, two exchanges, seen from the server and the client
      for (Role role : new Role[] {Role.SERVER, Role.CLIENT}) {
        long conn = role == Role.SERVER ? id : id + 1;
        InetSocketAddress local = role == Role.SERVER ? server : client;
        InetSocketAddress remote = role == Role.SERVER ? client : server;
        Direction in = role == Role.SERVER ? Direction.INGRESS : Direction.EGRESS;
        Direction out = role == Role.SERVER ? Direction.EGRESS : Direction.INGRESS;
        pipeline.onEvent(new ConnectionOpened(conn, pid, pid, 3, time++, 0, 0, local, remote, role, "warmup", "warmup"));
        long[] position = new long[2];
        for (int i = 0; i < 2; i++) {
          time = data(pipeline, conn, pid, in, request, position, time);
          time = data(pipeline, conn, pid, out, response, position, time);
        }
        pipeline.onEvent(new ConnectionClosed(conn, pid, pid, 3, time++, position[0], position[1]));
      }
      // HTTP/2: preface, SETTINGS, a request and its response (static-table and literal fields)
      long conn = 1_000_000L + round;
      pipeline.onEvent(new ConnectionOpened(conn, pid, pid, 3, time++, 0, 0, server, client, Role.SERVER, "warmup", "warmup"));
      long[] position = new long[2];
      byte[] headers = new byte[] {(byte) 0x82, (byte) 0x86, (byte) 0x84, 0x41, 0x06, 'w', 'a', 'r', 'm', 'u', 'p'};
      time = data(pipeline, conn, pid, Direction.EGRESS, settingsFrame, position, time);
      time = data(pipeline, conn, pid, Direction.INGRESS,
          concat(preface, settingsFrame, frame(1, 0x5, 1, headers)), position, time);
      time = data(pipeline, conn, pid, Direction.EGRESS,
          concat(frame(1, 0x4, 1, new byte[] {(byte) 0x88}), frame(0, 0x1, 1, new byte[] {'o', 'k'})), position, time);
      pipeline.onEvent(new ConnectionClosed(conn, pid, pid, 3, time++, position[0], position[1]));
      pipeline.afterBatch();
    }
    // what waits in the linking window (a server on loopback whose client is not in the script) leaves
    pipeline.closeAll();
  }

  private static long data(ConnectionTracker pipeline, long conn, int pid, Direction direction, byte[] bytes,
      long[] position, long time) {
    int d = direction.ordinal();
    pipeline.onEvent(new DataCaptured(conn, pid, pid, 3, time, direction,
        direction == Direction.EGRESS ? Source.WRITE : Source.READ, position[d], bytes.length, bytes));
    position[d] += bytes.length;
    return time + 1;
  }

  private static byte[] frame(int type, int flags, int stream, byte[] payload) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(payload.length >>> 16);
    out.write(payload.length >>> 8);
    out.write(payload.length);
    out.write(type);
    out.write(flags);
    out.write(0);
    out.write(0);
    out.write(0);
    out.write(stream);
    out.writeBytes(payload);
    return out.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
