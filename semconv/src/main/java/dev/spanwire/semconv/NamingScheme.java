package dev.spanwire.semconv;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The attribute and metric naming schemes Spanwire can export with. */
public enum NamingScheme {
  /** AppScope's names: the old OpenTelemetry HTTP conventions with underscores ({@code http_method}). */
  APPSCOPE("appscope"),
  /** The old OpenTelemetry HTTP conventions ({@code http.method}). */
  OTEL_LEGACY("otel-legacy"),
  /** The stable OpenTelemetry HTTP conventions ({@code http.request.method}). */
  OTEL_STABLE("otel-stable");

  private final String id;

  NamingScheme(String id) {
    this.id = id;
  }

  /** The name used in configuration and on the command line. */
  public String id() {
    return id;
  }

  /** The scheme with this id; throws with the valid ids listed otherwise. */
  public static NamingScheme of(String id) {
    for (NamingScheme scheme : values()) {
      if (scheme.id.equals(id)) {
        return scheme;
      }
    }
    throw new IllegalArgumentException(
        "unknown naming scheme '" + id + "', expected one of " + ids());
  }

  /** The valid ids, comma separated. */
  public static String ids() {
    return Arrays.stream(values()).map(NamingScheme::id).collect(Collectors.joining(", "));
  }

  @Override
  public String toString() {
    return id;
  }
}
