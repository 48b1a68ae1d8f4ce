package dev.spanwire.exporter.otel;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Reads the few protocol-buffers messages an OTLP endpoint answers with: the partial success of an
 * {@code ExportTraceServiceResponse}, and the {@code google.rpc.RetryInfo} a gRPC refusal may carry
 * in its {@code grpc-status-details-bin} trailer. Whatever does not parse reads as absent: an
 * endpoint's malformed answer never fails an export that the status says went through.
 */
final class ProtoReader {
  private static final String RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo";

  private final byte[] buf;
  private final int from;
  private final int end;
  private int pos;

  private ProtoReader(byte[] buf, int from, int end) {
    this.buf = buf;
    this.from = from;
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
      List<ProtoReader> partial = new ProtoReader(response, 0, response.length).messages(1);
      if (partial.isEmpty()) {
        return PartialSuccess.NONE;
      }
      long rejected = partial.getLast().varint(1);
      String message = partial.getLast().string(2);
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
      for (ProtoReader any : new ProtoReader(status, 0, status.length).messages(3)) {
        List<ProtoReader> value = any.messages(2);
        if (RETRY_INFO.equals(any.string(1)) && !value.isEmpty()) {
          List<ProtoReader> delay = value.getLast().messages(1);
          long seconds = delay.isEmpty() ? 0 : delay.getLast().varint(1);
          long nanos = delay.isEmpty() ? 0 : delay.getLast().varint(2);
          if (seconds < 0 || nanos < 0) {
            return Duration.ZERO;
          }
          return Duration.ofSeconds(Math.min(seconds, Duration.ofDays(1).toSeconds()), Math.min(nanos, 999_999_999));
        }
      }
      return null;
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      return null;
    }
  }

  /** Every field {@code number} of wire type LEN, in order, each a reader of its bytes. */
  private List<ProtoReader> messages(int number) {
    List<ProtoReader> found = new ArrayList<>(1);
    pos = from;
    while (pos < end) {
      int tag = tag();
      if (tag == (number << 3 | ProtoWriter.LEN)) {
        int length = length();
        found.add(new ProtoReader(buf, pos, pos + length));
        pos += length;
      } else {
        skip(tag);
      }
    }
    return found;
  }

  /** The last varint field {@code number}, 0 when absent (protobuf's default). */
  private long varint(int number) {
    long value = 0;
    pos = from;
    while (pos < end) {
      int tag = tag();
      if (tag == (number << 3 | ProtoWriter.VARINT)) {
        value = varint();
      } else {
        skip(tag);
      }
    }
    return value;
  }

  /** The last string field {@code number}, "" when absent. */
  private String string(int number) {
    List<ProtoReader> found = messages(number);
    return found.isEmpty() ? ""
        : new String(buf, found.getLast().from, found.getLast().end - found.getLast().from, StandardCharsets.UTF_8);
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
