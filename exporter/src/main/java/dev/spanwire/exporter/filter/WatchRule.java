package dev.spanwire.exporter.filter;

import dev.spanwire.exporter.exchange.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * AppScope's HTTP event watch: {@code name} over the event source ({@code http-req},
 * {@code http-resp}) decides whether an event is emitted; {@code field} and {@code value} keep
 * only the data fields whose name and value they match; {@code headers} name the extra headers
 * (matched against whole {@code Name: value} lines) that events and spans carry. A regex matches
 * when it is found anywhere in the text, as AppScope's POSIX regexec does.
 */
public record WatchRule(Pattern name, Pattern field, Pattern value, List<Pattern> headers) {
  public static final String MATCH_ALL = ".*";

  public WatchRule {
    headers = List.copyOf(headers);
  }

  /** AppScope's default entry: every event, every field, no extra headers. */
  public static WatchRule defaults() {
    Pattern all = Pattern.compile(MATCH_ALL);
    return new WatchRule(all, all, all, List.of());
  }

  /** Whether an event of this source is emitted. */
  public boolean emits(String source) {
    return name.matcher(source).find();
  }

  /** Whether fields are filtered at all (both regexes are {@code .*} by default). */
  public boolean filtersFields() {
    return !field.pattern().equals(MATCH_ALL) || !value.pattern().equals(MATCH_ALL);
  }

  /** The fields whose name matches {@code field} and whose value matches {@code value}. */
  public List<Field> keep(List<Field> fields) {
    if (!filtersFields()) {
      return fields;
    }
    // .* is found in any text: not run (a Matcher per field and exchange adds up)
    boolean anyName = field.pattern().equals(MATCH_ALL);
    boolean anyValue = value.pattern().equals(MATCH_ALL);
    List<Field> kept = new ArrayList<>(fields.size());
    for (Field f : fields) {
      if ((anyName || field.matcher(f.name()).find()) && (anyValue || value.matcher(String.valueOf(f.value())).find())) {
        kept.add(f);
      }
    }
    return kept;
  }

  @Override
  public String toString() {
    return "WatchRule{name=" + name + ", field=" + field + ", value=" + value + ", headers=" + headers + "}";
  }
}
