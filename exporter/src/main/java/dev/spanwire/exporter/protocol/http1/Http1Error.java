package dev.spanwire.exporter.protocol.http1;

/** Why a stream stopped parsing as HTTP/1; each kind is counted. */
public enum Http1Error {
  INVALID_METHOD("invalid method"),
  INVALID_TARGET("invalid character in target"),
  INVALID_VERSION("invalid HTTP version"),
  INVALID_STATUS("invalid status code"),
  INVALID_START_LINE("invalid start line"),
  INVALID_HEADER_TOKEN("invalid header name"),
  INVALID_HEADER_VALUE("invalid header value"),
  LINE_ENDING("expected CRLF"),
  INVALID_CONTENT_LENGTH("invalid Content-Length"),
  DUPLICATE_CONTENT_LENGTH("duplicate Content-Length"),
  INVALID_TRANSFER_ENCODING("invalid Transfer-Encoding"),
  LENGTH_WITH_TRANSFER_ENCODING("Content-Length with Transfer-Encoding"),
  INVALID_CHUNK("invalid chunk"),
  HEAD_TOO_LARGE("header block too large"),
  DATA_AFTER_CLOSE("data after Connection: close"),
  INCOMPLETE("message cut short by close");

  private final String reason;

  Http1Error(String reason) {
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }
}
