package dev.spanwire.exporter.exchange;

/**
 * A gRPC call, as an HTTP/2 exchange shows it: a request of content-type {@code application/grpc}
 * (or {@code application/grpc+proto}, ...) to {@code /package.Service/Method}, its status in the
 * {@code grpc-status} trailer (or a trailers-only response's headers), {@code grpc-message} its
 * description.
 *
 * @param service {@code package.Service}
 * @param method {@code Method}
 * @param statusCode the gRPC status code, or -1 when none was seen (no response, or it was cut)
 * @param message the status message, percent-decoded, or null
 */
public record GrpcCall(String service, String method, int statusCode, String message) {
  public static final int OK = 0;

  /** The call this exchange is, or null when it is not gRPC. */
  public static GrpcCall of(Exchange exchange) {
    if (!"2.0".equals(exchange.version())) {
      return null;
    }
    String contentType = exchange.request().headers().get("content-type");
    if (contentType == null || !isGrpc(contentType)) {
      return null;
    }
    String path = exchange.request().target();
    int slash = path.lastIndexOf('/');
    String service = slash > 0 ? path.substring(1, slash) : "";
    String method = slash >= 0 ? path.substring(slash + 1) : path;
    Response response = exchange.response();
    int status = -1;
    String message = null;
    if (response != null) {
      status = parseStatus(response.headers().get("grpc-status"));
      String raw = response.headers().get("grpc-message");
      message = raw == null ? null : percentDecode(raw);
    }
    int streamError = exchange.request().streamError();
    if (status < 0 && streamError >= 0) {
      long timeout = timeoutNanos(exchange.request().headers().get("grpc-timeout"));
      long elapsed = exchange.endNanos() - exchange.request().startNanos();
      status = statusOfReset(streamError, timeout, elapsed);
    }
    return new GrpcCall(service, method, status, message);
  }

  /**
   * The status a stream reset without grpc-status gives, as gRPC maps HTTP/2 error codes: a
   * cancel once the call's deadline (its grpc-timeout, 10 % allowed for the time before the
   * request was written) has passed is DEADLINE_EXCEEDED, else CANCELLED; a refused stream is
   * UNAVAILABLE, ENHANCE_YOUR_CALM RESOURCE_EXHAUSTED, INADEQUATE_SECURITY PERMISSION_DENIED, the
   * rest INTERNAL.
   */
  static int statusOfReset(int errorCode, long timeoutNanos, long elapsedNanos) {
    return switch (errorCode) {
      case 8 -> timeoutNanos > 0 && elapsedNanos >= timeoutNanos - timeoutNanos / 10 ? 4 : 1;
      case 7 -> 14;
      case 11 -> 8;
      case 12 -> 7;
      default -> 13;
    };
  }

  /** A grpc-timeout value ({@code 300m}, {@code 1S}: digits and a unit of H M S m u n) in nanoseconds, or -1. */
  static long timeoutNanos(String value) {
    if (value == null) {
      return -1;
    }
    String v = value.strip();
    if (v.length() < 2 || v.length() > 9) {
      return -1;
    }
    long amount = 0;
    for (int i = 0; i < v.length() - 1; i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      amount = amount * 10 + (c - '0');
    }
    long unit = switch (v.charAt(v.length() - 1)) {
      case 'H' -> 3_600_000_000_000L;
      case 'M' -> 60_000_000_000L;
      case 'S' -> 1_000_000_000L;
      case 'm' -> 1_000_000L;
      case 'u' -> 1_000L;
      case 'n' -> 1L;
      default -> -1;
    };
    return unit < 0 ? -1 : amount * unit;
  }

  /** The span name the RPC conventions give: {@code package.Service/Method}. */
  public String spanName() {
    return service.isEmpty() ? method : service + "/" + method;
  }

  /**
   * Whether the status makes the span an error: on the client any status but OK; on the server
   * only those that mean the server failed (UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL,
   * UNAVAILABLE, DATA_LOSS), as OpenTelemetry's gRPC conventions say.
   */
  public boolean isError(boolean server) {
    if (statusCode < 0) {
      return false;
    }
    if (!server) {
      return statusCode != OK;
    }
    return switch (statusCode) {
      case 2, 4, 12, 13, 14, 15 -> true;
      default -> false;
    };
  }

  private static boolean isGrpc(String contentType) {
    String type = contentType.strip();
    return type.regionMatches(true, 0, "application/grpc", 0, 16)
        && (type.length() == 16 || type.charAt(16) == '+' || type.charAt(16) == ';');
  }

  private static int parseStatus(String text) {
    if (text == null) {
      return -1;
    }
    String s = text.strip();
    if (s.isEmpty() || s.length() > 9) {
      return -1;
    }
    int value = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  /** grpc-message is percent-encoded UTF-8; a malformed escape stays as it is. */
  static String percentDecode(String text) {
    if (text.indexOf('%') < 0) {
      return text;
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '%' && i + 2 < text.length() && hex(text.charAt(i + 1)) >= 0
          && hex(text.charAt(i + 2)) >= 0) {
        out.write(hex(text.charAt(i + 1)) * 16 + hex(text.charAt(i + 2)));
        i += 2;
      } else {
        int end = Character.isHighSurrogate(c) && i + 1 < text.length() ? i + 2 : i + 1;
        byte[] bytes = text.substring(i, end).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        out.write(bytes, 0, bytes.length);
        i = end - 1;
      }
    }
    return out.toString(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static int hex(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
  }
}
