package dev.spanwire.bpf.testing;

import dev.spanwire.bpf.BpfFeatures;
import dev.spanwire.bpf.Capabilities;
import java.util.Optional;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Enables {@link KernelTest}s where BPF is allowed; see there. */
public final class KernelCondition implements ExecutionCondition {
  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    Optional<String> missing = missingCapability();
    if (missing.isEmpty()) {
      return ConditionEvaluationResult.enabled("BPF allowed");
    }
    return skipOrFail(context.getDisplayName(), missing.get());
  }

  /** What keeps this host from loading BPF programs, if anything. */
  public static Optional<String> missingCapability() {
    Capabilities capabilities = Capabilities.current();
    if (!capabilities.canCapture()) {
      return Optional.of("not root and missing " + capabilities.missingForCapture());
    }
    return BpfFeatures.libbpfMissing();
  }

  /**
   * For tests of the socket-tracepoint backend (kernel 6.3+): skips with the reason printed where
   * the kernel lacks the tracepoints, fails under CI=true.
   */
  public static void assumeSocketTracepoints(String test) {
    dev.spanwire.bpf.Tracefs.ensureMounted();
    assumeKernelHas(test, dev.spanwire.bpf.CaptureBackend.socketTracepointsAvailable(), "sock:sock_send_length tracepoint (6.3+)");
  }

  /** Skips {@code test} (or fails it under CI) unless the kernel has {@code what}. */
  public static void assumeKernelHas(String test, boolean has, String what) {
    if (!has) {
      ConditionEvaluationResult result = skipOrFail(test, "kernel " + System.getProperty("os.version") + " has no " + what);
      org.junit.jupiter.api.Assumptions.assumeTrue(false, result.getReason().orElse(""));
    }
  }

  /** Skips with the reason printed, or under CI (see {@link Ci}) fails: CI runs as root and must not skip. */
  static ConditionEvaluationResult skipOrFail(String test, String reason) {
    if (Ci.on()) {
      throw new IllegalStateException(test + " cannot run under CI: " + reason);
    }
    System.err.println("SKIPPED kernel test " + test + ": " + reason);
    return ConditionEvaluationResult.disabled(reason);
  }
}
