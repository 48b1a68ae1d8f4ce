package dev.spanwire.semconv;

/**
 * What Spanwire knows of a remote procedure call carried over HTTP/2 (gRPC), with the attribute
 * name each naming scheme gives it: OpenTelemetry's {@code rpc.*} conventions, in AppScope's style
 * with underscores.
 */
public enum RpcField {
  //                  appscope                 otel-legacy              otel-stable
  SYSTEM("rpc_system", "rpc.system", "rpc.system"),
  SERVICE("rpc_service", "rpc.service", "rpc.service"),
  METHOD("rpc_method", "rpc.method", "rpc.method"),
  GRPC_STATUS_CODE("rpc_grpc_status_code", "rpc.grpc.status_code", "rpc.grpc.status_code");

  /** The value of {@link #SYSTEM} for gRPC. */
  public static final String GRPC = "grpc";

  private final String appscope;
  private final String legacy;
  private final String stable;

  RpcField(String appscope, String legacy, String stable) {
    this.appscope = appscope;
    this.legacy = legacy;
    this.stable = stable;
  }

  /** This field's attribute name in {@code scheme}. */
  public String name(NamingScheme scheme) {
    return switch (scheme) {
      case APPSCOPE -> appscope;
      case OTEL_LEGACY -> legacy;
      case OTEL_STABLE -> stable;
    };
  }
}
