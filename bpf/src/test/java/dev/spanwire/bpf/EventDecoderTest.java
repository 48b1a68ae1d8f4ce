package dev.spanwire.bpf;

import static dev.spanwire.bpf.EventLayouts.CONN_CLOSE_EVENT;
import static dev.spanwire.bpf.EventLayouts.CONN_OPEN_EVENT;
import static dev.spanwire.bpf.EventLayouts.DATA_EVENT_HEAD;
import static dev.spanwire.bpf.EventLayouts.offset;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Records laid out as the kernel writes them, decoded without a kernel. */
class EventDecoderTest {
  private final Arena arena = Arena.ofConfined();

  @AfterEach
  void close() {
    arena.close();
  }

  private MemorySegment header(long size, int type) {
    MemorySegment record = arena.allocate(size, 8);
    record.set(JAVA_INT, EventLayouts.headerOffset("type"), type);
    record.set(JAVA_INT, EventLayouts.headerOffset("tgid"), 1234);
    record.set(JAVA_INT, EventLayouts.headerOffset("tid"), 1235);
    record.set(JAVA_INT, EventLayouts.headerOffset("fd"), 7);
    record.set(JAVA_LONG, EventLayouts.headerOffset("conn_id"), 42);
    record.set(JAVA_LONG, EventLayouts.headerOffset("timestamp_ns"), 987_654_321L);
    return record;
  }

  private MemorySegment data(byte[] payload, int length) {
    MemorySegment record = header(DATA_EVENT_HEAD.byteSize() + payload.length, EventLayouts.EVENT_DATA);
    record.set(JAVA_LONG, offset(DATA_EVENT_HEAD, "position"), 100);
    record.set(JAVA_INT, offset(DATA_EVENT_HEAD, "length"), length);
    record.set(JAVA_INT, offset(DATA_EVENT_HEAD, "captured"), payload.length);
    record.set(JAVA_BYTE, offset(DATA_EVENT_HEAD, "direction"), (byte) 1);
    record.set(JAVA_BYTE, offset(DATA_EVENT_HEAD, "source"), (byte) 6);
    MemorySegment.copy(payload, 0, record, JAVA_BYTE, DATA_EVENT_HEAD.byteSize(), payload.length);
    return record;
  }

  @Test
  void dataEventCopiesThePayloadOut() {
    byte[] payload = "GET / HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
    MemorySegment record = data(payload, 5000);
    DataCaptured event = (DataCaptured) EventDecoder.decode(record);
    record.fill((byte) 0);

    assertThat(event.connectionId()).isEqualTo(42);
    assertThat(event.pid()).isEqualTo(1234);
    assertThat(event.tid()).isEqualTo(1235);
    assertThat(event.fd()).isEqualTo(7);
    assertThat(event.timestampNanos()).isEqualTo(987_654_321L);
    assertThat(event.position()).isEqualTo(100);
    assertThat(event.length()).isEqualTo(5000);
    assertThat(event.direction()).isEqualTo(Direction.INGRESS);
    assertThat(event.source()).isEqualTo(Source.WRITEV);
    assertThat(event.payload()).isEqualTo(payload);
    assertThat(event.truncated()).isTrue();
  }

  @Test
  void flagsInodeAndProcessEventsDecode() {
    MemorySegment flagged = data(new byte[3], 3);
    flagged.set(JAVA_BYTE, offset(DATA_EVENT_HEAD, "flags"), (byte) EventLayouts.DATA_FLAG_LOSS_BEFORE);
    assertThat(((DataCaptured) EventDecoder.decode(flagged)).lossBefore()).isTrue();
    assertThat(((DataCaptured) EventDecoder.decode(data(new byte[3], 3))).lossBefore()).isFalse();

    MemorySegment open = header(CONN_OPEN_EVENT.byteSize(), EventLayouts.EVENT_CONN_OPEN);
    open.set(JAVA_SHORT, offset(CONN_OPEN_EVENT, "family"), (short) 2);
    open.set(JAVA_BYTE, offset(CONN_OPEN_EVENT, "flags"), (byte) EventLayouts.OPEN_FLAG_JOINED);
    open.set(JAVA_LONG, offset(CONN_OPEN_EVENT, "ino"), 987_654L);
    ConnectionOpened opened = (ConnectionOpened) EventDecoder.decode(open);
    assertThat(opened.joinedMidStream()).isTrue();
    assertThat(opened.ino()).isEqualTo(987_654L);

    MemorySegment exit = header(EventLayouts.PROC_EVENT.byteSize(), EventLayouts.EVENT_PROC_EXIT);
    assertThat(EventDecoder.decode(exit)).isEqualTo(new ProcessExited(1234, 1235, 987_654_321L));
    MemorySegment exec = header(EventLayouts.PROC_EVENT.byteSize(), EventLayouts.EVENT_PROC_EXEC);
    assertThat(EventDecoder.decode(exec)).isEqualTo(new ProcessExecuted(1234, 1235, 987_654_321L));
  }

  @Test
  void openEventDecodesIpv4AndComm() throws Exception {
    MemorySegment record = header(CONN_OPEN_EVENT.byteSize(), EventLayouts.EVENT_CONN_OPEN);
    record.set(JAVA_INT, offset(CONN_OPEN_EVENT, "uid"), 33);
    record.set(JAVA_INT, offset(CONN_OPEN_EVENT, "gid"), 44);
    record.set(JAVA_SHORT, offset(CONN_OPEN_EVENT, "family"), (short) 2);
    record.set(JAVA_SHORT, offset(CONN_OPEN_EVENT, "local_port"), (short) 8080);
    record.set(JAVA_SHORT, offset(CONN_OPEN_EVENT, "remote_port"), (short) 51000);
    record.set(JAVA_BYTE, offset(CONN_OPEN_EVENT, "role"), (byte) 2);
    MemorySegment.copy(new byte[] {127, 0, 0, 1}, 0, record, JAVA_BYTE, offset(CONN_OPEN_EVENT, "local_addr"), 4);
    MemorySegment.copy(new byte[] {10, 1, 2, 3}, 0, record, JAVA_BYTE, offset(CONN_OPEN_EVENT, "remote_addr"), 4);
    MemorySegment.copy("nginx\0junk".getBytes(StandardCharsets.US_ASCII), 0, record, JAVA_BYTE, offset(CONN_OPEN_EVENT, "comm"), 10);
    byte[] args = "/usr/sbin/nginx\0-c\0/etc/nginx.conf\0".getBytes(StandardCharsets.US_ASCII);
    MemorySegment.copy(args, 0, record, JAVA_BYTE, offset(CONN_OPEN_EVENT, "cmdline"), args.length);
    record.set(JAVA_INT, offset(CONN_OPEN_EVENT, "cmdline_len"), args.length);

    ConnectionOpened event = (ConnectionOpened) EventDecoder.decode(record);
    assertThat(event.local()).isEqualTo(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 8080));
    assertThat(event.remote()).isEqualTo(new InetSocketAddress(InetAddress.getByName("10.1.2.3"), 51000));
    assertThat(event.role()).isEqualTo(Role.SERVER);
    assertThat(event.comm()).isEqualTo("nginx");
    assertThat(event.commandLine()).isEqualTo("/usr/sbin/nginx\0-c\0/etc/nginx.conf");
    assertThat(event.uid()).isEqualTo(33);
    assertThat(event.gid()).isEqualTo(44);
  }

  /** Connections from one peer share its address object (what turns it into text finds it by identity). */
  @Test
  void theSameAddressBytesGiveTheSameObjectAndOthersTheirOwn() throws Exception {
    InetAddress first = EventDecoder.interned(new byte[] {10, 1, 2, 3});
    assertThat(EventDecoder.interned(new byte[] {10, 1, 2, 3})).isSameAs(first).isEqualTo(InetAddress.getByName("10.1.2.3"));
    // thousands of other peers push it out of its slot: still the right address, then shared again
    for (int i = 0; i < 5000; i++) {
      byte[] other = {10, 9, (byte) (i >> 8), (byte) i};
      assertThat(EventDecoder.interned(other)).isEqualTo(InetAddress.getByAddress(other));
    }
    InetAddress again = EventDecoder.interned(new byte[] {10, 1, 2, 3});
    assertThat(again).isEqualTo(first);
    assertThat(EventDecoder.interned(new byte[] {10, 1, 2, 3})).isSameAs(again);
    byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 10, 1, 2, 3};
    assertThat(EventDecoder.interned(mapped)).isInstanceOf(Inet4Address.class).isEqualTo(first);
    byte[] six = new byte[16];
    six[0] = 0x20;
    six[1] = 0x01;
    six[15] = 3;
    assertThat(EventDecoder.interned(six)).isEqualTo(InetAddress.getByName("2001::3"));
  }

  @Test
  void openEventTurnsV4MappedIpv6IntoIpv4() {
    MemorySegment record = header(CONN_OPEN_EVENT.byteSize(), EventLayouts.EVENT_CONN_OPEN);
    record.set(JAVA_SHORT, offset(CONN_OPEN_EVENT, "family"), (short) 10);
    byte[] mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, 127, 0, 0, 1};
    MemorySegment.copy(mapped, 0, record, JAVA_BYTE, offset(CONN_OPEN_EVENT, "local_addr"), 16);
    byte[] loopback6 = new byte[16];
    loopback6[15] = 1;
    MemorySegment.copy(loopback6, 0, record, JAVA_BYTE, offset(CONN_OPEN_EVENT, "remote_addr"), 16);

    ConnectionOpened event = (ConnectionOpened) EventDecoder.decode(record);
    assertThat(event.local().getAddress()).isInstanceOf(Inet4Address.class);
    assertThat(event.remote().getAddress().getHostAddress()).isEqualTo("0:0:0:0:0:0:0:1");
  }

  @Test
  void closeEventCarriesStreamTotals() {
    MemorySegment record = header(CONN_CLOSE_EVENT.byteSize(), EventLayouts.EVENT_CONN_CLOSE);
    record.set(JAVA_LONG, offset(CONN_CLOSE_EVENT, "bytes_egress"), 78);
    record.set(JAVA_LONG, offset(CONN_CLOSE_EVENT, "bytes_ingress"), 827);
    ConnectionClosed event = (ConnectionClosed) EventDecoder.decode(record);
    assertThat(event.bytesEgress()).isEqualTo(78);
    assertThat(event.bytesIngress()).isEqualTo(827);
  }

  @Test
  void malformedRecordsAreRejectedWithAReason() {
    assertThatThrownBy(() -> EventDecoder.decode(arena.allocate(8)))
        .isInstanceOf(EventDecoder.MalformedEventException.class)
        .hasMessageContaining("event header");
    assertThatThrownBy(() -> EventDecoder.decode(header(64, 99)))
        .hasMessage("unknown event type 99");
    MemorySegment shortPayload = data(new byte[10], 10).asSlice(0, DATA_EVENT_HEAD.byteSize() + 5);
    assertThatThrownBy(() -> EventDecoder.decode(shortPayload)).hasMessageContaining("data event payload");
    assertThatThrownBy(() -> EventDecoder.decode(data(new byte[10], 5))).hasMessage("data event captured 10 of 5 bytes");
    MemorySegment badDirection = data(new byte[1], 1);
    badDirection.set(JAVA_BYTE, offset(DATA_EVENT_HEAD, "direction"), (byte) 7);
    assertThatThrownBy(() -> EventDecoder.decode(badDirection)).hasMessage("unknown direction 7");
    MemorySegment badFamily = header(CONN_OPEN_EVENT.byteSize(), EventLayouts.EVENT_CONN_OPEN);
    badFamily.set(JAVA_SHORT, offset(CONN_OPEN_EVENT, "family"), (short) 1);
    assertThatThrownBy(() -> EventDecoder.decode(badFamily)).hasMessage("unknown address family 1");
  }
}
