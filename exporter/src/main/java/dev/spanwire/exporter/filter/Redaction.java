package dev.spanwire.exporter.filter;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Keeps secrets out of telemetry: the values of sensitive headers, of query parameters named
 * like credentials, and the password of URL credentials become the replacement text.
 *
 * @param headers header names whose values are replaced (any case)
 * @param queryWords a query parameter is replaced when its name contains one of these (any case)
 * @param replacement what replaces a secret
 */
public record Redaction(Set<String> headers, List<String> queryWords, String replacement) {
  public static final Set<String> DEFAULT_HEADERS = Set.of("authorization", "proxy-authorization", "cookie", "set-cookie");
  public static final List<String> DEFAULT_QUERY_WORDS = List.of("token", "key", "secret", "password", "auth", "session");
  public static final String DEFAULT_REPLACEMENT = "REDACTED";

  public Redaction {
    headers = headers.stream().map(h -> h.strip().toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
    queryWords = queryWords.stream().map(w -> w.strip().toLowerCase(Locale.ROOT)).filter(w -> !w.isEmpty()).toList();
  }

  public static Redaction defaults() {
    return new Redaction(DEFAULT_HEADERS, DEFAULT_QUERY_WORDS, DEFAULT_REPLACEMENT);
  }

  /** Whether the header of this name has its value replaced. */
  public boolean redactsHeader(String name) {
    return headers.contains(name.toLowerCase(Locale.ROOT));
  }

  /** A {@code Name: value} line with its value replaced when the header is sensitive. */
  public String headerLine(String line) {
    int colon = line.indexOf(':');
    if (colon <= 0 || !redactsHeader(line.substring(0, colon).strip())) {
      return line;
    }
    return line.substring(0, colon + 1) + " " + replacement;
  }

  /**
   * A request target (or any URL) with credential-like query values and the password of
   * {@code user:password@} replaced; the same string when there is nothing to replace.
   */
  public String target(String target) {
    if (target == null) {
      return null;
    }
    String url = userInfo(target);
    int query = url.indexOf('?');
    if (query < 0 || queryWords.isEmpty()) {
      return url;
    }
    int fragment = url.indexOf('#', query);
    int end = fragment < 0 ? url.length() : fragment;
    StringBuilder b = new StringBuilder(url.length() + 16).append(url, 0, query + 1);
    boolean changed = false;
    int start = query + 1;
    while (true) {
      int amp = url.indexOf('&', start);
      int stop = amp < 0 || amp > end ? end : amp;
      int eq = url.indexOf('=', start);
      if (eq > start && eq < stop && sensitive(url, start, eq)) {
        b.append(url, start, eq + 1).append(replacement);
        changed = true;
      } else {
        b.append(url, start, stop);
      }
      if (stop >= end) {
        break;
      }
      b.append('&');
      start = stop + 1;
    }
    return changed ? b.append(url, end, url.length()).toString() : url;
  }

  /**
   * One argument of a command line with its secret replaced: a header argument
   * ({@code Authorization: Bearer x}), a {@code name=value} or {@code --name=value} whose name
   * is credential-like, or a URL's credentials and query values.
   */
  public String argument(String arg) {
    int colon = arg.indexOf(':');
    if (colon > 0 && arg.indexOf("://") != colon && redactsHeader(arg.substring(0, colon).strip())) {
      return arg.substring(0, colon + 1) + " " + replacement;
    }
    int eq = arg.indexOf('=');
    int nameStart = 0;
    while (nameStart < arg.length() && arg.charAt(nameStart) == '-') {
      nameStart++;
    }
    if (eq > nameStart && arg.indexOf('?') < 0 && arg.indexOf('/') < 0 && sensitive(arg, nameStart, eq)) {
      return arg.substring(0, eq + 1) + replacement;
    }
    return arg.indexOf('?') >= 0 || arg.contains("://") ? target(arg) : arg;
  }

  /** A command line's arguments (separated by {@code separator}), each redacted, joined by spaces. */
  public String commandLine(String arguments, char separator) {
    StringBuilder b = new StringBuilder(arguments.length());
    int start = 0;
    while (start <= arguments.length()) {
      int end = arguments.indexOf(separator, start);
      if (end < 0) {
        end = arguments.length();
      }
      if (end > start) {
        if (!b.isEmpty()) {
          b.append(' ');
        }
        b.append(argument(arguments.substring(start, end)));
      }
      start = end + 1;
    }
    return b.toString();
  }

  /** Whether the parameter name {@code s[start, end)} contains a query word, in any case. */
  private boolean sensitive(String s, int start, int end) {
    for (String word : queryWords) {
      for (int i = start; i + word.length() <= end; i++) {
        if (s.regionMatches(true, i, word, 0, word.length())) {
          return true;
        }
      }
    }
    return false;
  }

  /** {@code scheme://user:password@host...} with the password replaced. */
  private String userInfo(String url) {
    int scheme = url.indexOf("://");
    if (scheme <= 0 || scheme > 10) {
      return url;
    }
    int authorityEnd = url.length();
    for (int i = scheme + 3; i < url.length(); i++) {
      char c = url.charAt(i);
      if (c == '/' || c == '?' || c == '#') {
        authorityEnd = i;
        break;
      }
    }
    int at = url.lastIndexOf('@', authorityEnd - 1);
    if (at < scheme + 3) {
      return url;
    }
    int colon = url.indexOf(':', scheme + 3);
    if (colon < 0 || colon > at) {
      return url;
    }
    return url.substring(0, colon + 1) + replacement + url.substring(at);
  }
}
