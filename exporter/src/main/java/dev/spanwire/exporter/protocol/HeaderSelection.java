package dev.spanwire.exporter.protocol;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which header fields a protocol session keeps of each message: the product's own (Host, for
 * the table and spans; User-Agent; X-Forwarded-For and X-AppScope, AppScope's fields; traceparent
 * and tracestate, trace context), names watch rules add, or all of them. Given to parsers as data:
 * no parser names a header the product wants.
 *
 * @param names lower-case names kept, in a fixed order
 * @param all keep every field
 */
public record HeaderSelection(List<String> names, boolean all) {
  /** The fields the product reads from every message. */
  public static final List<String> PRODUCT =
      List.of("host", "user-agent", "x-forwarded-for", "x-appscope", "traceparent", "tracestate");

  public HeaderSelection {
    Set<String> lower = new LinkedHashSet<>();
    for (String name : names) {
      lower.add(name.strip().toLowerCase(Locale.ROOT));
    }
    names = List.copyOf(lower);
  }

  /** The product's fields only. */
  public static HeaderSelection product() {
    return new HeaderSelection(PRODUCT, false);
  }

  /** The product's fields, or every field when {@code all}. */
  public static HeaderSelection product(boolean all) {
    return new HeaderSelection(PRODUCT, all);
  }

  /** These and {@code more} names. */
  public HeaderSelection with(List<String> more) {
    List<String> joined = new java.util.ArrayList<>(names);
    joined.addAll(more);
    return new HeaderSelection(joined, all);
  }
}
