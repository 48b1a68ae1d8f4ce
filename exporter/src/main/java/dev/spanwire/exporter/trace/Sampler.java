package dev.spanwire.exporter.trace;

import java.util.Locale;

/**
 * Which traces are exported, as the OpenTelemetry SDK's samplers decide it
 * ({@code OTEL_TRACES_SAMPLER}, {@code OTEL_TRACES_SAMPLER_ARG}): decided once, where a trace
 * starts, and followed by every span linked into it. A trace that arrives with a {@code traceparent}
 * follows the caller's sampled flag under the {@code parentbased_*} samplers; the others decide by
 * their own rule. The ratio rule is the SDK's, on the trace id's last 8 bytes, so Spanwire and an
 * instrumented service with the same ratio keep the same traces.
 *
 * @param name the sampler's name as OTEL_TRACES_SAMPLER writes it
 * @param parentBased whether a remote parent's sampled flag decides
 * @param ratio the share of root traces kept: 1 always, 0 never
 */
public record Sampler(String name, boolean parentBased, double ratio) {
  public static final Sampler DEFAULT = of("parentbased_always_on", 1.0);

  public Sampler {
    if (!(ratio >= 0 && ratio <= 1)) {
      throw new IllegalArgumentException("expected a sampler argument between 0 and 1, got " + ratio);
    }
  }

  /**
   * The sampler of that name: always_on, always_off, traceidratio, parentbased_always_on,
   * parentbased_always_off, parentbased_traceidratio; {@code arg} is the ratio of the two
   * traceidratio samplers (ignored by the others).
   */
  public static Sampler of(String name, double arg) {
    String normal = name.strip().toLowerCase(Locale.ROOT);
    boolean parentBased = normal.startsWith("parentbased_");
    String rule = parentBased ? normal.substring("parentbased_".length()) : normal;
    return switch (rule) {
      case "always_on" -> new Sampler(normal, parentBased, 1);
      case "always_off" -> new Sampler(normal, parentBased, 0);
      case "traceidratio" -> new Sampler(normal, parentBased, arg);
      default -> throw new IllegalArgumentException("expected always_on, always_off, traceidratio, "
          + "parentbased_always_on, parentbased_always_off or parentbased_traceidratio, got \"" + name + "\"");
    };
  }

  /** Whether a trace that starts here with this id is kept. */
  public boolean sampleRoot(long traceIdLow) {
    if (ratio >= 1) {
      return true;
    }
    if (ratio <= 0) {
      return false;
    }
    // the SDK's TraceIdRatioBasedSampler: the trace id's random part, below ratio * Long.MAX_VALUE
    long bound = (long) (ratio * Long.MAX_VALUE);
    return Math.abs(traceIdLow) < bound;
  }

  /** Whether a trace joined through a caller's {@code traceparent} is kept. */
  public boolean sampleUnderRemote(long traceIdLow, boolean callerSampled) {
    return parentBased ? callerSampled : sampleRoot(traceIdLow);
  }

  @Override
  public String toString() {
    return name.endsWith("traceidratio") ? name + "(" + ratio + ")" : name;
  }
}
