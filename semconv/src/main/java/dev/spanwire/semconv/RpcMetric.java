package dev.spanwire.semconv;

/**
 * The metrics of remote procedure calls (gRPC), named per scheme: OpenTelemetry's
 * {@code rpc.server.duration} and {@code rpc.client.duration}, in milliseconds in every scheme
 * (the RPC conventions' unit), with the HTTP durations' millisecond buckets.
 */
public enum RpcMetric {
  SERVER_DURATION("rpc.server.duration", "Duration of RPC calls served"),
  CLIENT_DURATION("rpc.client.duration", "Duration of RPC calls made");

  private final String name;
  private final String description;

  RpcMetric(String name, String description) {
    this.name = name;
    this.description = description;
  }

  /** The metric name in {@code scheme} (the same in all three). */
  public String name(NamingScheme scheme) {
    return name;
  }

  public String unit(NamingScheme scheme) {
    return "ms";
  }

  public String description() {
    return description;
  }

  public java.util.List<Double> buckets(NamingScheme scheme) {
    return HttpMetric.MILLISECONDS_BUCKETS;
  }
}
