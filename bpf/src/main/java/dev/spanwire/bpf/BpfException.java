package dev.spanwire.bpf;

import java.util.Optional;

/**
 * A libbpf or kernel operation failed. Carries the operation in short lowercase words ("attach
 * tracepoint/syscalls/sys_exit_read"), the errno, its message, and for a refused program load the
 * verifier's log.
 */
public final class BpfException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String operation;
  private final int errno;
  private final String verifierLog;

  public BpfException(String operation, int errno, String reason) {
    this(operation, errno, reason, null);
  }

  public BpfException(String operation, int errno, String reason, String verifierLog) {
    super(operation + ": " + reason + (verifierLog == null ? "" : "\n" + verifierLog));
    this.operation = operation;
    this.errno = errno;
    this.verifierLog = verifierLog;
  }

  /** What was being done, e.g. {@code load spanwire.bpf.o}. */
  public String operation() {
    return operation;
  }

  /** The positive errno, or 0 when the failure had none. */
  public int errno() {
    return errno;
  }

  /** The kernel verifier's log when a program load was refused. */
  public Optional<String> verifierLog() {
    return Optional.ofNullable(verifierLog);
  }

  /** The first line of the message: operation and reason, without the verifier log. */
  public String summary() {
    String message = getMessage();
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
