package dev.spanwire.exporter.exchange;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

/** IP addresses as text, IPv6 in the recommended form of RFC 5952. */
public final class Addresses {
  /** Texts made, by address: every span and event writes its connection's two addresses. */
  private static final java.util.concurrent.ConcurrentHashMap<InetAddress, String> TEXTS =
      new java.util.concurrent.ConcurrentHashMap<>();
  static final int MAX_CACHED = 4096;

  private Addresses() {}

  /**
   * {@code 127.0.0.1}; {@code ::1}, {@code 2001:db8::1}, {@code ::ffff:192.0.2.1}: lower-case hex
   * without leading zeros, the longest run of two or more zero groups (the first of equal runs)
   * shortened to {@code ::}, an IPv4-mapped address with its IPv4 part dotted (RFC 5952 section 4
   * and 5). Java's {@code getHostAddress} writes every group ({@code 0:0:0:0:0:0:0:1}).
   */
  public static String text(InetAddress address) {
    // a connection's addresses are the same objects exchange after exchange: a slot by identity
    // finds them without hashing the address (an immutable pair, so a racing reader sees it whole)
    int slot = System.identityHashCode(address) & (RECENT - 1);
    Recent recent = RECENT_TEXTS[slot];
    if (recent != null && recent.address == address) {
      return recent.text;
    }
    String text = lookUp(address);
    RECENT_TEXTS[slot] = new Recent(address, text);
    return text;
  }

  private record Recent(InetAddress address, String text) {}

  private static final int RECENT = 256;
  private static final Recent[] RECENT_TEXTS = new Recent[RECENT];

  private static String lookUp(InetAddress address) {
    String text = TEXTS.get(address);
    if (text == null) {
      text = format(address);
      if (TEXTS.size() >= MAX_CACHED) {
        TEXTS.clear(); // a host talks to a bounded set; past it, start over
      }
      TEXTS.put(address, text);
    }
    return text;
  }

  private static String format(InetAddress address) {
    if (address instanceof Inet4Address) {
      return address.getHostAddress();
    }
    byte[] b = address.getAddress();
    if (b.length != 16) {
      return address.getHostAddress();
    }
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = (b[2 * i] & 0xff) << 8 | (b[2 * i + 1] & 0xff);
    }
    if (groups[0] == 0 && groups[1] == 0 && groups[2] == 0 && groups[3] == 0 && groups[4] == 0 && groups[5] == 0xffff) {
      return "::ffff:" + (b[12] & 0xff) + "." + (b[13] & 0xff) + "." + (b[14] & 0xff) + "." + (b[15] & 0xff);
    }
    int bestStart = -1;
    int bestLength = 1; // a single zero group is not shortened
    for (int i = 0; i < 8; ) {
      if (groups[i] != 0) {
        i++;
        continue;
      }
      int start = i;
      while (i < 8 && groups[i] == 0) {
        i++;
      }
      if (i - start > bestLength) {
        bestStart = start;
        bestLength = i - start;
      }
    }
    StringBuilder out = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        out.append("::");
        i += bestLength - 1;
        continue;
      }
      if (!out.isEmpty() && out.charAt(out.length() - 1) != ':') {
        out.append(':');
      }
      out.append(Integer.toHexString(groups[i]));
    }
    if (address instanceof Inet6Address v6 && v6.getScopeId() != 0) {
      out.append('%').append(v6.getScopeId());
    }
    return out.toString();
  }
}
