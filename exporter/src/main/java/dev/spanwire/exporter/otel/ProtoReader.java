package dev.spanwire.exporter.otel;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;

/**
 * Reads the few protocol-buffers messages an OTLP endpoint answers with: the partial success of an
 * {@code ExportTraceServiceResponse}, and the {@code google.rpc.RetryInfo} a gRPC refusal may carry
 * in its {@code grpc-status-details-bin} trailer. Whatever does not parse reads as absent: an
 * endpoint's malformed answer never fails an export that the status says went through.
 */
final class ProtoReader {
  private static final String RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo";

  private final byte[] buf;
  private int pos;
  private final int end;

  private ProtoReader(byte[] buf, int from, int end) {
    this.buf = buf;
    this.pos = from;
    this.end = end;
  }

  /** What an endpoint said it did not take of an accepted request ({@code rejected} 0: all taken). */
  record PartialSuccess(long rejected, String message) {
    static final PartialSuccess NONE = new PartialSuccess(0, "");
  }

  /** {@code ExportTraceServiceResponse.partial_success} (field 1: rejected_spans 1, error_message 2). */
  static PartialSuccess partialSuccess(byte[] response) {
    if (response == null || response.length == 0) {
      return PartialSuccess.NONE;
    }
    try {
      ProtoReader r = new ProtoReader(response, 0, response.length);
      long rejected = 0;
      String message = "";
      while (r.more()) {
        int tag = r.tag();
        if (tag == (1 << 3 | ProtoWriter.LEN)) {
          ProtoReader p = r.message();
          while (p.more()) {
            int inner = p.tag();
            if (inner == (1 << 3 | ProtoWriter.VARINT)) {
              rejected = p.varint();
            } else if (inner == (2 << 3 | ProtoWriter.LEN)) {
              message = p.string();
            } else {
              p.skip(inner);
            }
          }
        } else {
          r.skip(tag);
        }
      }
      return rejected == 0 && message.isEmpty() ? PartialSuccess.NONE : new PartialSuccess(Math.max(0, rejected), message);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      return PartialSuccess.NONE;
    }
  }

  /**
   * The delay of the {@code google.rpc.RetryInfo} in a {@code grpc-status-details-bin} trailer
   * (base64 of a {@code google.rpc.Status}: details 3, each an {@code Any} of type_url 1 and value
   * 2; RetryInfo's retry_delay 1 a {@code Duration} of seconds 1 and nanos 2); null when absent.
   */
  static Duration retryDelay(String statusDetailsBase64) {
    if (statusDetailsBase64 == null || statusDetailsBase64.isBlank()) {
      return null;
    }
    try {
      // gRPC may leave the padding off, which the decoder does not require
      byte[] status = Base64.getDecoder().decode(statusDetailsBase64.trim());
      ProtoReader r = new ProtoReader(status, 0, status.length);
      while (r.more()) {
        int tag = r.tag();
        if (tag != (3 << 3 | ProtoWriter.LEN)) {
          r.skip(tag);
          continue;
        }
        ProtoReader any = r.message();
        String type = null;
        ProtoReader value = null;
        while (any.more()) {
          int inner = any.tag();
          if (inner == (1 << 3 | ProtoWriter.LEN)) {
            type = any.string();
          } else if (inner == (2 << 3 | ProtoWriter.LEN)) {
            value = any.message();
          } else {
            any.skip(inner);
          }
        }
        if (RETRY_INFO.equals(type) && value != null) {
          return duration(value);
        }
      }
      return null;
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      return null;
    }
  }

  private static Duration duration(ProtoReader retryInfo) {
    long seconds = 0;
    long nanos = 0;
    while (retryInfo.more()) {
      int tag = retryInfo.tag();
      if (tag != (1 << 3 | ProtoWriter.LEN)) {
        retryInfo.skip(tag);
        continue;
      }
      ProtoReader d = retryInfo.message();
      while (d.more()) {
        int inner = d.tag();
        if (inner == (1 << 3 | ProtoWriter.VARINT)) {
          seconds = d.varint();
        } else if (inner == (2 << 3 | ProtoWriter.VARINT)) {
          nanos = d.varint();
        } else {
          d.skip(inner);
        }
      }
    }
    if (seconds < 0 || nanos < 0) {
      return Duration.ZERO;
    }
    return Duration.ofSeconds(Math.min(seconds, Duration.ofDays(1).toSeconds()), Math.min(nanos, 999_999_999));
  }

  private boolean more() {
    return pos < end;
  }

  private int tag() {
    long tag = varint();
    if (tag <= 0 || tag > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("bad tag " + tag);
    }
    return (int) tag;
  }

  private long varint() {
    long value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= end) {
        throw new IndexOutOfBoundsException("varint past the end");
      }
      byte b = buf[pos++];
      value |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        return value;
      }
    }
    throw new IllegalArgumentException("varint longer than 10 bytes");
  }

  private int length() {
    long length = varint();
    if (length < 0 || length > end - pos) {
      throw new IndexOutOfBoundsException("length " + length + " past the end");
    }
    return (int) length;
  }

  private ProtoReader message() {
    int length = length();
    ProtoReader inner = new ProtoReader(buf, pos, pos + length);
    pos += length;
    return inner;
  }

  private String string() {
    int length = length();
    String s = new String(buf, pos, length, StandardCharsets.UTF_8);
    pos += length;
    return s;
  }

  private void skip(int tag) {
    switch (tag & 7) {
      case ProtoWriter.VARINT -> varint();
      case ProtoWriter.FIXED64 -> advance(8);
      case ProtoWriter.LEN -> advance(length());
      case ProtoWriter.FIXED32 -> advance(4);
      default -> throw new IllegalArgumentException("wire type " + (tag & 7));
    }
  }

  private void advance(int n) {
    if (n > end - pos) {
      throw new IndexOutOfBoundsException("field past the end");
    }
    pos += n;
  }
}
