package dev.spanwire.bpf.testing;

import java.util.Locale;
import java.util.Set;

/**
 * Whether the tests run under CI, where nothing may skip: the {@code CI} variable set to anything
 * but an explicit no. Runners write it differently ({@code true}, {@code 1}, {@code yes}); reading
 * only {@code true} let a runner's {@code CI=1} skip the kernel tests silently.
 */
public final class Ci {
  private static final Set<String> NO = Set.of("", "0", "false", "no", "off");

  private Ci() {}

  public static boolean on() {
    return on(System.getenv("CI"));
  }

  static boolean on(String value) {
    return value != null && !NO.contains(value.strip().toLowerCase(Locale.ROOT));
  }
}
