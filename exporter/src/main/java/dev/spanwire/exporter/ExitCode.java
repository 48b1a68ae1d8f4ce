package dev.spanwire.exporter;

/** Process exit codes: each kind of failure has its own. */
final class ExitCode {
  static final int OK = 0;
  /** Capture or export failed while running. */
  static final int RUNTIME_FAILURE = 1;
  /** A bad flag, configuration key or value. */
  static final int BAD_CONFIG = 2;
  /** Not root and without CAP_BPF + CAP_PERFMON, or the kernel lacks a needed feature. */
  static final int NO_CAPABILITY = 3;

  private ExitCode() {}
}
