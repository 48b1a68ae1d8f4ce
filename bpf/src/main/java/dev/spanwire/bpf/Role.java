package dev.spanwire.bpf;

/** The traced process's side of a connection. Mirrors {@code enum role}. */
public enum Role {
  /** Not known from connect/accept nor from the first bytes. */
  UNKNOWN,
  /** The process connected, or wrote a request first. */
  CLIENT,
  /** The process accepted, or read a request first. */
  SERVER;

  static Role of(int code) {
    return switch (code) {
      case 0 -> UNKNOWN;
      case 1 -> CLIENT;
      case 2 -> SERVER;
      default -> throw new IllegalArgumentException("unknown role " + code);
    };
  }
}
