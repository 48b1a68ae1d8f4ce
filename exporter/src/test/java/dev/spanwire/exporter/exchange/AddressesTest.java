package dev.spanwire.exporter.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The examples of RFC 5952 (sections 4.1 to 4.3 and 5), and the loopbacks. */
class AddressesTest {
  @ParameterizedTest
  @CsvSource({
    "0:0:0:0:0:0:0:1, ::1",
    "0:0:0:0:0:0:0:0, ::",
    "2001:0db8:0000:0000:0000:0000:0002:0001, 2001:db8::2:1",
    "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
    "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
    "2001:0:0:1:0:0:0:1, 2001:0:0:1::1",
    "2001:DB8:0:0:0:0:0:1, 2001:db8::1",
    "1:0:0:0:0:0:0:0, 1::",
    "0:0:0:0:0:ffff:c000:0201, 192.0.2.1", // Java makes a v4-mapped address an Inet4Address, as the decoder does
    "127.0.0.1, 127.0.0.1",
  })
  void textIsTheRecommendedForm(String written, String expected) throws Exception {
    assertThat(Addresses.text(InetAddress.getByName(written))).isEqualTo(expected);
  }
}
