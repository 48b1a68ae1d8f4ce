package dev.spanwire.exporter.output;

import dev.spanwire.exporter.exchange.Addresses;
import java.net.Inet6Address;
import java.net.InetSocketAddress;

/** Socket addresses as users write them: {@code 127.0.0.1:80}, {@code [::1]:80} (RFC 5952). */
public final class Tuples {
  private Tuples() {}

  public static String format(InetSocketAddress address) {
    String host = Addresses.text(address.getAddress());
    return address.getAddress() instanceof Inet6Address ? "[" + host + "]:" + address.getPort() : host + ":" + address.getPort();
  }
}
