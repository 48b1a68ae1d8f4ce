package dev.spanwire.exporter.output;

import java.net.Inet6Address;
import java.net.InetSocketAddress;

/** Socket addresses as users write them: {@code 127.0.0.1:80}, {@code [::1]:80}. */
public final class Tuples {
  private Tuples() {}

  public static String format(InetSocketAddress address) {
    String host = address.getAddress().getHostAddress();
    if (address.getAddress() instanceof Inet6Address) {
      int scope = host.indexOf('%');
      return "[" + (scope < 0 ? host : host.substring(0, scope)) + "]:" + address.getPort();
    }
    return host + ":" + address.getPort();
  }
}
