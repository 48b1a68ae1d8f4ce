package dev.spanwire.exporter.exchange;

/**
 * A low-cardinality template of a request path: the query is dropped and path segments that
 * identify one thing rather than a kind of thing become placeholders, so {@code /users/42/orders}
 * and {@code /users/43/orders} share {@code /users/{id}/orders}.
 *
 * <ul>
 *   <li>all digits: {@code {id}}
 *   <li>a UUID: {@code {uuid}}
 *   <li>hexadecimal of 8 or more characters with a digit: {@code {hex}}
 *   <li>20 or more characters mixing letters and digits (tokens, hashes): {@code {token}}
 * </ul>
 *
 * At most {@value #MAX_SEGMENTS} segments are kept; deeper paths end in {@code /...}.
 */
public final class RouteTemplate {
  static final int MAX_SEGMENTS = 8;

  private RouteTemplate() {}

  /** Targets up to this long are remembered with their templates. */
  static final int MAX_REMEMBERED_TARGET = 256;
  /** Remembered targets: a power of two, direct-mapped by the target's hash. */
  static final int REMEMBERED = 256;

  /** A target and its template; immutable, so threads may share entries without a lock. */
  private record Remembered(String target, String template) {}

  /**
   * The last targets seen and their templates, by hash: a span and the metrics of one exchange
   * (on two threads) and the requests a client repeats ask for the same template; a slot that
   * another target took is recomputed. Bounded: {@value #REMEMBERED} entries of targets of at most
   * {@value #MAX_REMEMBERED_TARGET} characters.
   */
  private static final Remembered[] REMEMBERED_TARGETS = new Remembered[REMEMBERED];

  /** The template of a request target ({@code *} and absolute forms included). */
  public static String of(String target) {
    if (target == null || target.isEmpty()) {
      return "/";
    }
    if (target.length() > MAX_REMEMBERED_TARGET) {
      return templateOf(target);
    }
    int slot = target.hashCode() & (REMEMBERED - 1);
    Remembered remembered = REMEMBERED_TARGETS[slot];
    if (remembered != null && remembered.target.equals(target)) {
      return remembered.template;
    }
    String template = templateOf(target);
    REMEMBERED_TARGETS[slot] = new Remembered(target, template);
    return template;
  }

  private static String templateOf(String target) {
    String path = pathOf(target);
    if (path.equals("*")) {
      return "*";
    }
    StringBuilder out = new StringBuilder(path.length());
    int segments = 0;
    int start = path.startsWith("/") ? 1 : 0;
    while (start <= path.length()) {
      int end = path.indexOf('/', start);
      if (end < 0) {
        end = path.length();
      }
      if (++segments > MAX_SEGMENTS) {
        out.append("/...");
        break;
      }
      String placeholder = placeholder(path, start, end);
      out.append('/');
      if (placeholder == null) {
        out.append(path, start, end); // the segment as it is, without a substring made for it
      } else {
        out.append(placeholder);
      }
      start = end + 1;
    }
    return out.toString();
  }

  /** The path of a target: no query or fragment, no scheme and authority (absolute form). */
  public static String pathOf(String target) {
    String path = target;
    int scheme = path.indexOf("://");
    if (scheme > 0 && scheme < 8) {
      int slash = path.indexOf('/', scheme + 3);
      path = slash < 0 ? "/" : path.substring(slash);
    }
    int query = indexOfAny(path, '?', '#');
    return query < 0 ? path : path.substring(0, query);
  }

  /** The query of a target without '?', or null; a '?' inside the fragment starts none. */
  public static String queryOf(String target) {
    int query = indexOfAny(target, '?', '#');
    if (query < 0 || target.charAt(query) == '#') {
      return null;
    }
    int fragment = target.indexOf('#', query);
    return target.substring(query + 1, fragment < 0 ? target.length() : fragment);
  }

  private static int indexOfAny(String s, char a, char b) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == a || c == b) {
        return i;
      }
    }
    return -1;
  }

  /** The placeholder the segment {@code path[start, end)} becomes, or null when it stays as it is. */
  private static String placeholder(String path, int start, int end) {
    int length = end - start;
    if (length == 0) {
      return null;
    }
    boolean digits = true;
    boolean hex = true;
    boolean letters = false;
    boolean anyDigit = false;
    for (int i = start; i < end; i++) {
      char c = path.charAt(i);
      boolean digit = c >= '0' && c <= '9';
      anyDigit |= digit;
      digits &= digit;
      hex &= digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      letters |= Character.isLetter(c);
    }
    if (digits) {
      return "{id}";
    }
    if (length == 36 && isUuid(path, start)) {
      return "{uuid}";
    }
    if (hex && length >= 8 && anyDigit) {
      return "{hex}";
    }
    if (length >= 20 && anyDigit && letters) {
      return "{token}";
    }
    return null;
  }

  private static boolean isUuid(String s, int start) {
    for (int i = 0; i < 36; i++) {
      char c = s.charAt(start + i);
      boolean dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash ? c != '-' : Character.digit(c, 16) < 0) {
        return false;
      }
    }
    return true;
  }
}
