package dev.spanwire.exporter.exchange;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A watch rule's header regexes, each found anywhere in a {@code Name: value} line. Most name one
 * header, as the shipped configuration's {@code (?i)^x-request-id:} does: a regex of the shape {@code ^name:} or
 * {@code (?i)^name:} (a name of letters, digits, '-' and '_') matches exactly the lines whose
 * name is that one (in any ASCII case with {@code (?i)}, as the regex does), so those are decided
 * on the name alone, no line made and no regex run, and protocol sessions need keep only those
 * headers of a message rather than all of them.
 */
public final class WatchedHeaders {
  private static final Pattern ONE_NAME = Pattern.compile("(\\(\\?i\\))?\\^([A-Za-z0-9_-]+):");

  private final List<Pattern> patterns;
  /** By pattern: the one header name it matches, or null for a regex decided on the whole line. */
  private final String[] names;
  private final boolean[] anyCase;
  private final boolean general;

  public WatchedHeaders(List<Pattern> patterns) {
    this.patterns = List.copyOf(patterns);
    this.names = new String[this.patterns.size()];
    this.anyCase = new boolean[names.length];
    boolean general = false;
    for (int i = 0; i < names.length; i++) {
      Pattern pattern = this.patterns.get(i);
      var shape = ONE_NAME.matcher(pattern.pattern());
      // flags() holds the text's (?i) too; any other flag (UNICODE_CASE, COMMENTS, ...) changes what matches
      if ((pattern.flags() & ~Pattern.CASE_INSENSITIVE) == 0 && shape.matches()) {
        names[i] = shape.group(2);
        anyCase[i] = (pattern.flags() & Pattern.CASE_INSENSITIVE) != 0;
      } else {
        general = true;
      }
    }
    this.general = general;
  }

  public boolean isEmpty() {
    return patterns.isEmpty();
  }

  /**
   * The lower-case names of the headers a match can come from, or null when a regex may match a
   * line of any name (every header must then be kept).
   */
  public List<String> names() {
    if (general) {
      return null;
    }
    List<String> lower = new ArrayList<>(names.length);
    for (String name : names) {
      lower.add(name.toLowerCase(java.util.Locale.ROOT));
    }
    return lower;
  }

  /** Whether any regex is found in the line {@code name + ": " + value}. */
  public boolean matches(String name, String value) {
    String line = null;
    for (int i = 0; i < names.length; i++) {
      if (names[i] != null) {
        if (startsWithName(name, names[i], anyCase[i])) {
          return true;
        }
      } else {
        if (line == null) {
          line = name + ": " + value;
        }
        if (patterns.get(i).matcher(line).find()) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Whether the line {@code name + ": " + ...} starts with {@code watched + ":"}: the name is the
   * watched one, or begins with it followed by a colon (a malformed name; the line's own colon
   * comes right after the name). ASCII letters compare in any case when {@code anyCase}, as a
   * {@code (?i)} regex without UNICODE_CASE does; nothing else does.
   */
  static boolean startsWithName(String name, String watched, boolean anyCase) {
    int length = watched.length();
    if (name.length() < length || (name.length() > length && name.charAt(length) != ':')) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      char a = name.charAt(i);
      char b = watched.charAt(i);
      if (a != b && (!anyCase || asciiLower(a) != asciiLower(b))) {
        return false;
      }
    }
    return true;
  }

  private static char asciiLower(char c) {
    return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
  }
}
