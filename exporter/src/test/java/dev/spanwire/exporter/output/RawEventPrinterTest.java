package dev.spanwire.exporter.output;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.ConnectionClosed;
import dev.spanwire.bpf.ConnectionOpened;
import dev.spanwire.bpf.DataCaptured;
import dev.spanwire.bpf.Direction;
import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.bpf.Source;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code --output raw}: one line per captured syscall, the process's name and the bytes made harmless. */
class RawEventPrinterTest {
  // 2026-11-30T00:00:00Z at monotonic 0
  private static final KernelClock CLOCK = KernelClock.withOffset(1_795_996_800_000_000_000L);

  private static DataCaptured data(long connection, Direction direction, long position, byte[] payload, int length) {
    return new DataCaptured(connection, 77, 78, 5, 1_500_000_000L, direction,
        direction == Direction.EGRESS ? Source.WRITE : Source.READ, position, length, payload, false, false, 0);
  }

  @Test
  void eachSyscallIsOneLineWithAnEscapedNameAndPreview() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    RawEventPrinter printer = new RawEventPrinter(new PrintStream(bytes, true, StandardCharsets.UTF_8), CLOCK);
    // a process may name itself anything (prctl PR_SET_NAME): here, terminal escapes
    printer.onEvent(new ConnectionOpened(1, 77, 78, 5, 1_000_000_000L, 0, 0, new InetSocketAddress("127.0.0.1", 8080),
        new InetSocketAddress("::1", 50000), Role.SERVER, "\u001b[2Jevil", "", 0, false, 0, false));
    printer.onEvent(data(1, Direction.INGRESS, 0, "GET / HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 27));
    byte[] long70 = "0123456789".repeat(7).getBytes(StandardCharsets.US_ASCII);
    printer.onEvent(data(1, Direction.EGRESS, 0, long70, 70));
    printer.onEvent(data(1, Direction.EGRESS, 70, new byte[] {0x1b, '"', '\\', (byte) 0xff}, 100));
    printer.onEvent(new ConnectionClosed(1, 77, 78, 5, 2_000_000_000L, 170, 27, 0, 0, 0));
    printer.onEvent(data(1, Direction.INGRESS, 27, "x".getBytes(StandardCharsets.US_ASCII), 1));
    printer.afterBatch();

    String at = "2026-11-30T00:00:01.500Z";
    assertThat(bytes.toString(StandardCharsets.UTF_8).lines().toList()).containsExactly(
        at + " \\x1b[2Jevil 77 127.0.0.1:8080 -> [::1]:50000 in  read pos 0 len 27 \"GET / HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n\"",
        at + " \\x1b[2Jevil 77 127.0.0.1:8080 -> [::1]:50000 out write pos 0 len 70 \""
            + "0123456789".repeat(6) + "0123\"...",
        at + " \\x1b[2Jevil 77 127.0.0.1:8080 -> [::1]:50000 out write pos 70 len 100 \"\\x1b\\\"\\\\\\xff\"...",
        at + " ? 77 conn 1 in  read pos 27 len 1 \"x\"");
  }
}
