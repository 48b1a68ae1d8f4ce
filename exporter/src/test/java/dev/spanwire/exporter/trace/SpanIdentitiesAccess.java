package dev.spanwire.exporter.trace;

/** The linking bounds, for tests in other packages. */
public final class SpanIdentitiesAccess {
  private SpanIdentitiesAccess() {}

  public static int maxHeldPerTrace() {
    return SpanIdentities.MAX_HELD_PER_TRACE;
  }

  public static int maxEntries() {
    return SpanIdentities.MAX_ENTRIES;
  }

  public static int held(SpanIdentities identities) {
    return identities.held();
  }

  public static int unknownPeers(SpanIdentities identities) {
    return identities.unknownPeers();
  }

  public static int placesKept(SpanIdentities identities) {
    return identities.placesKept();
  }
}
