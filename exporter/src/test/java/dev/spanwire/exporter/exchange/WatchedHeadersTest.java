package dev.spanwire.exporter.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Watched header regexes decided on a header's name agree with the regex run over the whole
 * {@code Name: value} line, which is what a watch rule means; and which headers a pipeline must
 * keep for them.
 */
class WatchedHeadersTest {
  private static final List<String> REGEXES = List.of(
      "(?i)^x-request-id:", "^X-Request-Id:", "(?i)^k:", "^x_y-1:", "(?i)^x-request-id", "(?i)x-request-id:",
      "^x-request-id:\\s*abc", "(?i)^(x-a|x-b):", "(?i)^x-request-id:|^host:");
  private static final List<String> NAMES = List.of(
      "x-request-id", "X-Request-Id", "X-REQUEST-ID", "x-request-idx", "x-request-i", "x-request-id:extra", "x-request-id ",
      " x-request-id", "xx-request-id", "k", "K", "\u212a", "kk", "x_y-1", "X_Y-1", "x-a", "x-b", "host", "Host", "",
      ":authority", "x-r\u00e9quest-id", "x-request-\u0130d");
  private static final List<String> VALUES = List.of("abc", " abc", "", "x-request-id: nested", "v:w");

  @Test
  void aWatchedHeaderMatchesExactlyWhenTheRegexIsFoundInItsLine() {
    int decidedByName = 0;
    for (String regex : REGEXES) {
      Pattern pattern = Pattern.compile(regex);
      WatchedHeaders watched = new WatchedHeaders(List.of(pattern));
      if (watched.names() != null) {
        decidedByName++;
      }
      for (String name : NAMES) {
        for (String value : VALUES) {
          boolean expected = pattern.matcher(name + ": " + value).find();
          assertThat(watched.matches(name, value)).as("%s against \"%s: %s\"", regex, name, value).isEqualTo(expected);
        }
      }
    }
    assertThat(decidedByName).as("the regexes of the one-name shape").isEqualTo(4);
  }

  @Test
  void theHeadersToKeepAreTheNamedOnesOrAll() {
    Map<List<String>, List<String>> cases = Map.of(
        List.of("(?i)^x-request-id:"), List.of("x-request-id"),
        List.of("(?i)^X-Tenant:", "^Traceparent:"), List.of("x-tenant", "traceparent"),
        List.of("(?i)^x-request-id:", "(?i)^x-"), List.of(),
        List.of("tenant"), List.of());
    cases.forEach((regexes, names) -> {
      List<String> kept = new WatchedHeaders(regexes.stream().map(Pattern::compile).toList()).names();
      if (names.isEmpty()) {
        assertThat(kept).as("%s may match a line of any name", regexes).isNull();
      } else {
        assertThat(kept).as(regexes.toString()).isEqualTo(names);
      }
    });
    // case given to the compiler rather than in the text is the same; Unicode case is not ASCII's
    WatchedHeaders flagged = new WatchedHeaders(List.of(Pattern.compile("^x-a:", Pattern.CASE_INSENSITIVE)));
    assertThat(flagged.names()).isEqualTo(List.of("x-a"));
    assertThat(flagged.matches("X-A", "1")).isTrue();
    WatchedHeaders unicode = new WatchedHeaders(List.of(Pattern.compile("^k:", Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE)));
    assertThat(unicode.names()).isNull();
    assertThat(unicode.matches("\u212a", "1")).as("the Kelvin sign is a k in Unicode's case").isTrue();
    assertThat(new WatchedHeaders(List.of(Pattern.compile("(?i)^k:"))).matches("\u212a", "1")).isFalse();
  }
}
