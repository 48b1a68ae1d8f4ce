package dev.spanwire.bpf;

/** The syscall that moved the bytes. Mirrors {@code enum syscall_source}. */
public enum Source {
  READ,
  READV,
  RECVFROM,
  RECVMSG,
  WRITE,
  WRITEV,
  SENDTO,
  SENDMSG,
  /** Size only: sendfile moves file pages, never captured. */
  SENDFILE,
  /** Plaintext a TLS library returned to a read call. */
  SSL_READ,
  /** Plaintext given to a TLS library's write call. */
  SSL_WRITE;

  private static final Source[] BY_CODE = values();

  static Source of(int code) {
    if (code < 1 || code > BY_CODE.length) {
      throw new IllegalArgumentException("unknown syscall source " + code);
    }
    return BY_CODE[code - 1];
  }
}
