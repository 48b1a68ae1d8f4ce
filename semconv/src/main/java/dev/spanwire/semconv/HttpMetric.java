package dev.spanwire.semconv;

/**
 * The metrics Spanwire records, named per scheme. AppScope's and old OpenTelemetry's durations
 * are milliseconds; the stable conventions use seconds.
 */
public enum HttpMetric {
  REQUESTS("http.requests", "{request}", Kind.COUNTER, "HTTP requests seen"),
  SERVER_DURATION("http.server.duration", "ms", Kind.HISTOGRAM, "Duration of HTTP server exchanges"),
  CLIENT_DURATION("http.client.duration", "ms", Kind.HISTOGRAM, "Duration of HTTP client exchanges"),
  REQUEST_CONTENT_LENGTH("http.request.content_length", "By", Kind.HISTOGRAM, "HTTP request body sizes"),
  RESPONSE_CONTENT_LENGTH("http.response.content_length", "By", Kind.HISTOGRAM, "HTTP response body sizes");

  /** Instrument kinds. */
  public enum Kind {
    COUNTER,
    HISTOGRAM
  }

  private final String appscopeName;
  private final String unit;
  private final Kind kind;
  private final String description;

  HttpMetric(String appscopeName, String unit, Kind kind, String description) {
    this.appscopeName = appscopeName;
    this.unit = unit;
    this.kind = kind;
    this.description = description;
  }

  /**
   * The metric name in {@code scheme}. AppScope names sizes the same on both sides; the
   * OpenTelemetry conventions name them per side, {@code server} or client.
   */
  public String name(NamingScheme scheme, boolean server) {
    String side = server ? "server" : "client";
    return switch (scheme) {
      case APPSCOPE -> appscopeName;
      case OTEL_LEGACY -> switch (this) {
        case REQUESTS, SERVER_DURATION, CLIENT_DURATION -> appscopeName;
        case REQUEST_CONTENT_LENGTH -> "http." + side + ".request.size";
        case RESPONSE_CONTENT_LENGTH -> "http." + side + ".response.size";
      };
      case OTEL_STABLE -> switch (this) {
        case REQUESTS -> appscopeName;
        case SERVER_DURATION -> "http.server.request.duration";
        case CLIENT_DURATION -> "http.client.request.duration";
        case REQUEST_CONTENT_LENGTH -> "http." + side + ".request.body.size";
        case RESPONSE_CONTENT_LENGTH -> "http." + side + ".response.body.size";
      };
    };
  }

  /** The unit in {@code scheme}: seconds for stable durations, else as AppScope. */
  public String unit(NamingScheme scheme) {
    if (scheme == NamingScheme.OTEL_STABLE && (this == SERVER_DURATION || this == CLIENT_DURATION)) {
      return "s";
    }
    return unit;
  }

  /** Multiply a millisecond duration by this to get the scheme's unit. */
  public double millisecondsToUnit(NamingScheme scheme) {
    return unit(scheme).equals("s") ? 0.001 : 1.0;
  }

  public Kind kind() {
    return kind;
  }

  public String description() {
    return description;
  }

  /**
   * Explicit bucket boundaries: the stable conventions' advice for seconds, the SDK's default
   * milliseconds boundaries for ms, powers of four for sizes.
   */
  public java.util.List<Double> buckets(NamingScheme scheme) {
    if (kind == Kind.COUNTER) {
      return java.util.List.of();
    }
    if (this == REQUEST_CONTENT_LENGTH || this == RESPONSE_CONTENT_LENGTH) {
      return SIZE_BUCKETS;
    }
    return unit(scheme).equals("s") ? SECONDS_BUCKETS : MILLISECONDS_BUCKETS;
  }

  static final java.util.List<Double> SECONDS_BUCKETS =
      java.util.List.of(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0);
  static final java.util.List<Double> MILLISECONDS_BUCKETS =
      java.util.List.of(0.0, 5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0, 7500.0, 10000.0);
  static final java.util.List<Double> SIZE_BUCKETS =
      java.util.List.of(0.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0, 67108864.0);
}
