package dev.spanwire.bpf;

/** Which way bytes moved, seen from the traced process. Mirrors {@code enum direction}. */
public enum Direction {
  /** The process wrote (sent) the bytes. */
  EGRESS,
  /** The process read (received) the bytes. */
  INGRESS;

  static Direction of(int code) {
    return switch (code) {
      case 0 -> EGRESS;
      case 1 -> INGRESS;
      default -> throw new IllegalArgumentException("unknown direction " + code);
    };
  }
}
