package dev.spanwire.exporter.filter;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Keeps secrets out of telemetry: the values of sensitive headers, of parameters named like
 * credentials (in queries, path parameters, form and JSON bodies, command lines), and the password
 * of URL credentials become the replacement text.
 *
 * <p>Names are matched after percent-decoding ({@code ?%74oken=} is {@code token}), in any case,
 * with every parameter syntax HTTP servers accept: {@code &} and {@code ;} between query
 * parameters, {@code ;name=value} path parameters ({@code ;jsessionid=}).
 *
 * @param headers header names whose values are replaced (any case)
 * @param queryWords a parameter is replaced when its name contains one of these (any case)
 * @param replacement what replaces a secret
 */
public record Redaction(Set<String> headers, List<String> queryWords, String replacement) {
  public static final Set<String> DEFAULT_HEADERS = Set.of("authorization", "proxy-authorization", "cookie", "set-cookie");
  public static final List<String> DEFAULT_QUERY_WORDS = List.of("token", "key", "secret", "password", "auth", "session");
  public static final String DEFAULT_REPLACEMENT = "REDACTED";

  /** Options whose next argument is {@code user:password} (curl, wget). */
  private static final Set<String> USER_OPTIONS = Set.of("-u", "--user", "-U", "--proxy-user");
  /** A JSON member: its name, then a string (perhaps cut short) or another scalar. */
  private static final Pattern JSON_MEMBER =
      Pattern.compile("\"((?:[^\"\\\\]|\\\\.){1,256})\"(\\s*:\\s*)(\"(?:[^\"\\\\]|\\\\.)*\"?|[^\\s,}\\]{\\[\"][^\\s,}\\]]*)");
  /** An option alone, whose value (if it takes one) is the next argument. */
  private static final Pattern OPTION_NAME = Pattern.compile("--?[A-Za-z0-9][A-Za-z0-9_.-]*");
  /** A form-encoded body: name=value pairs joined by '&', no spaces or line breaks. */
  private static final Pattern FORM = Pattern.compile("[^=&\\s]+=[^&\\s]*(?:&[^=&\\s]+=?[^&\\s]*)*&?");

  public Redaction {
    headers = headers.stream().map(h -> h.strip().toLowerCase(Locale.ROOT)).collect(Collectors.toUnmodifiableSet());
    queryWords = queryWords.stream().map(w -> w.strip().toLowerCase(Locale.ROOT)).filter(w -> !w.isEmpty()).toList();
  }

  public static Redaction defaults() {
    return new Redaction(DEFAULT_HEADERS, DEFAULT_QUERY_WORDS, DEFAULT_REPLACEMENT);
  }

  /** Whether the header of this name has its value replaced. */
  public boolean redactsHeader(String name) {
    return headers.contains(name.strip().toLowerCase(Locale.ROOT));
  }

  /** A {@code Name: value} line with its value replaced when the header is sensitive. */
  public String headerLine(String line) {
    int colon = line.indexOf(':');
    if (colon <= 0 || !redactsHeader(line.substring(0, colon))) {
      return line;
    }
    return line.substring(0, colon + 1) + " " + replacement;
  }

  /**
   * A request target (or any URL) with the password of {@code user:password@}, credential-like
   * query values and credential-like path parameters replaced; the same string when there is
   * nothing to replace.
   */
  public String target(String target) {
    if (target == null) {
      return null;
    }
    String url = userInfo(target);
    int query = url.indexOf('?');
    int fragment = url.indexOf('#');
    int pathEnd = query >= 0 ? query : fragment >= 0 ? fragment : url.length();
    StringBuilder b = null;
    // path parameters: /app;jsessionid=ABC/next
    int semicolon = url.indexOf(';');
    if (semicolon >= 0 && semicolon < pathEnd) {
      b = new StringBuilder(url.length() + 16);
      redactParameters(url, semicolon + 1, pathEnd, true, b.append(url, 0, semicolon + 1));
    }
    if (query >= 0 && !queryWords.isEmpty()) {
      int end = fragment > query ? fragment : url.length();
      if (b == null) {
        b = new StringBuilder(url.length() + 16).append(url, 0, query + 1);
      } else {
        b.append(url, pathEnd, query + 1);
      }
      redactParameters(url, query + 1, end, false, b);
      b.append(url, end, url.length());
    } else if (b != null) {
      b.append(url, pathEnd, url.length());
    }
    if (b == null) {
      return url;
    }
    String redacted = b.toString();
    return redacted.equals(url) ? url : redacted;
  }

  /**
   * Appends {@code s[start, end)}, parameters separated by '&' or ';' (also '/' in a path), with
   * the values of sensitive ones replaced.
   */
  private void redactParameters(String s, int start, int end, boolean path, StringBuilder out) {
    int i = start;
    while (i <= end) {
      int stop = i;
      while (stop < end && s.charAt(stop) != '&' && s.charAt(stop) != ';' && !(path && s.charAt(stop) == '/')) {
        stop++;
      }
      int eq = s.indexOf('=', i);
      if (eq > i && eq < stop && sensitive(decode(s.substring(i, eq)))) {
        out.append(s, i, eq + 1).append(replacement);
      } else {
        out.append(s, i, stop);
      }
      if (stop >= end) {
        break;
      }
      out.append(s.charAt(stop));
      i = stop + 1;
    }
  }

  /** Percent- and plus-decoded, as a server reads a parameter name; malformed escapes stay. */
  private static String decode(String name) {
    if (name.indexOf('%') < 0 && name.indexOf('+') < 0) {
      return name;
    }
    try {
      return URLDecoder.decode(name, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return name;
    }
  }

  /**
   * One argument of a command line with its secret replaced: a header argument
   * ({@code Authorization: Bearer x}, also joined to its option: {@code -HAuthorization: x}), a
   * {@code name=value} or {@code --name=value} whose name is credential-like, and the credentials
   * and query values of every URL in it, wherever it starts ({@code --db-url=postgres://u:pw@db}).
   */
  public String argument(String arg) {
    String header = arg.startsWith("-H") && !arg.startsWith("--") ? arg.substring(2)
        : arg.startsWith("--header=") ? arg.substring("--header=".length()) : arg;
    int colon = header.indexOf(':');
    if (colon > 0 && !header.startsWith("//", colon + 1) && redactsHeader(header.substring(0, colon))) {
      return arg.substring(0, arg.length() - header.length() + colon + 1) + " " + replacement;
    }
    for (String option : USER_OPTIONS) {
      if (option.length() == 2 && arg.length() > 2 && arg.startsWith(option)) {
        return option + userPassword(arg.substring(2)); // -ualice:s3cret
      }
      if (arg.startsWith(option + "=")) {
        return option + "=" + userPassword(arg.substring(option.length() + 1));
      }
    }
    int eq = arg.indexOf('=');
    int nameStart = 0;
    while (nameStart < arg.length() && arg.charAt(nameStart) == '-') {
      nameStart++;
    }
    if (eq > nameStart && arg.indexOf("://") < 0 && arg.indexOf('?') < 0 && arg.indexOf('/') < 0
        && sensitive(arg.substring(nameStart, eq))) {
      return arg.substring(0, eq + 1) + replacement;
    }
    int scheme = arg.indexOf("://");
    if (scheme < 0) {
      return arg.indexOf('?') >= 0 ? target(arg) : arg;
    }
    // every URL in the argument: from its scheme's first letter to the end
    int start = scheme;
    while (start > 0 && Character.isLetterOrDigit(arg.charAt(start - 1)) || start > 0 && "+.-".indexOf(arg.charAt(start - 1)) >= 0) {
      start--;
    }
    String prefix = arg.substring(0, start);
    return (prefix.indexOf('?') >= 0 ? target(prefix) : prefix) + target(arg.substring(start));
  }

  /** {@code user:password} with the password replaced. */
  private String userPassword(String value) {
    int colon = value.indexOf(':');
    return colon < 0 ? value : value.substring(0, colon + 1) + replacement;
  }

  /**
   * A command line's arguments (separated by {@code separator}), each redacted, joined by spaces.
   * An option named like a credential ({@code --password}, {@code --api-key}) without a value of
   * its own takes the next argument as its secret; {@code -u} / {@code --user} take
   * {@code user:password}.
   */
  public String commandLine(String arguments, char separator) {
    StringBuilder b = new StringBuilder(arguments.length());
    int start = 0;
    boolean secretNext = false;
    boolean userNext = false;
    while (start <= arguments.length()) {
      int end = arguments.indexOf(separator, start);
      if (end < 0) {
        end = arguments.length();
      }
      if (end > start) {
        if (!b.isEmpty()) {
          b.append(' ');
        }
        String arg = arguments.substring(start, end);
        if (userNext) {
          b.append(userPassword(arg));
        } else if (secretNext && !arg.startsWith("-")) {
          b.append(replacement);
        } else {
          b.append(argument(arg));
        }
        userNext = USER_OPTIONS.contains(arg);
        // an option name has one or two dashes (OPTION_NAME); its name without them, and no
        // regular expression compiled per argument of every new process (String.replaceFirst)
        secretNext = !userNext && OPTION_NAME.matcher(arg).matches() && sensitive(arg.substring(arg.startsWith("--") ? 2 : 1));
      }
      start = end + 1;
    }
    return b.toString();
  }

  /**
   * A captured body with the values of credential-like names replaced: JSON members
   * ({@code "access_token": "..."}, also one cut short) and form fields ({@code password=...}).
   * Other bodies are returned as they are.
   */
  public String body(String text) {
    if (text == null || queryWords.isEmpty()) {
      return text;
    }
    String trimmed = text.stripLeading();
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
      Matcher m = JSON_MEMBER.matcher(text);
      StringBuilder out = null;
      int last = 0;
      while (m.find()) {
        if (sensitive(m.group(1))) {
          if (out == null) {
            out = new StringBuilder(text.length());
          }
          out.append(text, last, m.start(3)).append('"').append(replacement).append('"');
          last = m.end(3);
        }
      }
      return out == null ? text : out.append(text, last, text.length()).toString();
    }
    if (FORM.matcher(text.strip()).matches()) {
      StringBuilder out = new StringBuilder(text.length());
      redactParameters(text, 0, text.length(), false, out);
      String redacted = out.toString();
      return redacted.equals(text) ? text : redacted;
    }
    return text;
  }

  /** Whether the parameter name contains a query word, in any case. */
  /** A {@code key=value} setting's value, replaced when the key is named like a credential. */
  public String setting(String key, String value) {
    return sensitive(key) ? replacement : value;
  }

  private boolean sensitive(String name) {
    for (String word : queryWords) {
      for (int i = 0; i + word.length() <= name.length(); i++) {
        if (name.regionMatches(true, i, word, 0, word.length())) {
          return true;
        }
      }
    }
    return false;
  }

  /** {@code scheme://user:password@host...} with the password replaced. */
  private String userInfo(String url) {
    int scheme = url.indexOf("://");
    if (scheme <= 0 || scheme > 16) {
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
