package dev.spanwire.exporter.output;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.KernelClock;
import dev.spanwire.bpf.Role;
import dev.spanwire.exporter.exchange.ConnectionInfo;
import dev.spanwire.exporter.exchange.Exchange;
import dev.spanwire.exporter.exchange.ProcessInfo;
import dev.spanwire.exporter.testing.Exchanges;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class TableSinkTest {
  private static final KernelClock CLOCK = KernelClock.withOffset(1_795_000_000_000_000_000L);

  private static String table(List<Column> columns, Exchange... exchanges) {
    StringWriter out = new StringWriter();
    TableSink sink = new TableSink(out, columns, CLOCK);
    for (Exchange e : exchanges) {
      sink.onExchange(e);
    }
    sink.flush();
    return out.toString();
  }

  private static Exchange exchange(ProcessInfo process, String request) {
    return Exchanges.exchange(process, Role.SERVER, 1, request, "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 1000, 2000);
  }

  @Test
  void controlCharactersFromTracedProcessesAreShownEscaped() {
    // prctl(PR_SET_NAME, "\e[1A\e[2K") erases the row above; \e[41m paints it red
    ProcessInfo hostile = new ProcessInfo(9, "\u001b[1A\u001b[2K\u007f", "x", "x", null, null, 0, 0);
    // a C1 CSI (0x9b) in Host: a Latin-1 byte the parser lets through, which many terminals obey
    String out = table(List.of(Column.HOST, Column.STATUS, Column.COMM), // the last column is never cut
        exchange(hostile, "GET /a HTTP/1.1\nHost: \u009b31mred\n\n"));
    assertThat(out).doesNotContain("\u001b", "\u009b", "\u007f");
    assertThat(out).contains("\\x1b[1A\\x1b[2K\\x7f", "\\u009b31mred");
    String withAgent = table(List.of(Column.COMM, Column.USER_AGENT),
        exchange(hostile, "GET /a HTTP/1.1\nHost: h\nUser-Agent: ua\u0085\n\n"));
    assertThat(withAgent).contains("ua\\u0085").doesNotContain("\u0085");
  }

  @Test
  void theTraceIdColumnShowsTheExchangesTrace() {
    ProcessInfo app = Exchanges.process(4, "app", null);
    Exchange plain = exchange(app, "GET /t HTTP/1.1\nHost: h\n\n");
    Exchange traced = new Exchange(plain.connection(), plain.tid(), "HTTP", "1.1", -1, plain.request(), plain.response(),
        new dev.spanwire.exporter.exchange.SpanIds(0x0af7651916cd43ddL, 0x8448eb211c80319cL, 0x00f067aa0ba902b7L, 0,
            false, true, null));
    List<String> lines = table(List.of(Column.TRACE_ID, Column.STATUS), traced).lines().toList();
    assertThat(lines.get(0)).startsWith("TRACE_ID ");
    assertThat(lines.get(1)).isEqualTo("0af7651916cd43dd8448eb211c80319c 200");
    assertThat(Column.of("trace_id")).isEqualTo(Column.TRACE_ID);
  }

  @Test
  void ipv6TuplesAreCompressedAndNeverLoseTheirPort() throws Exception {
    ProcessInfo app = Exchanges.process(3, "app", null);
    Exchange loopback = exchange(app, "GET /a HTTP/1.1\nHost: h\n\n");
    InetSocketAddress server = new InetSocketAddress(InetAddress.getByName("2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"), 65535);
    InetSocketAddress client = new InetSocketAddress(InetAddress.getByName("::1"), 54321);
    Exchange wide = new Exchange(new ConnectionInfo(2, server, client, Role.SERVER, app), 3, "HTTP", "1.1", -1,
        loopback.request(), loopback.response(), loopback.ids());
    String out = table(List.of(Column.SRC, Column.DST, Column.STATUS), wide, loopback);
    List<String> lines = out.lines().toList();
    assertThat(lines.get(1)).startsWith("[::1]:54321 ").contains("[2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:65535 200");
    // the widened column stays wide for the rows after it: STATUS lines up
    assertThat(lines.get(2).lastIndexOf(" 200")).isEqualTo(lines.get(1).lastIndexOf(" 200"));
    assertThat(out).doesNotContain("0:0:0:0");
  }
}
