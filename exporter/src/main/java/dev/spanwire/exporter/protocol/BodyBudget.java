package dev.spanwire.exporter.protocol;

/**
 * The heap the body prefixes under capture may hold together, across every connection of a
 * pipeline: with {@code --max-body-size} at 1 MiB, a hundred HTTP/2 streams or forty HTTP/1
 * downloads at once would hold more than the agent's heap. A message that finds the budget spent
 * keeps what it has and is marked cut ({@code *_body_truncated}; with nothing kept, an empty body
 * so marked), its framing unaffected. Sessions give a response's bytes back when it is complete
 * (its prefix then belongs to the exchange, which the output queues bound), a request's when its
 * exchange leaves the session (answered, dropped, or its connection gone: a request waits for its
 * answer with its body, forty 1 MiB uploads to a slow server held more than the heap), and every
 * message's when their connection ends or changes protocol. Used on the pipeline thread.
 */
public final class BodyBudget {
  private final long maxBytes;
  private long held;

  /** A quarter of the JVM's heap. */
  public static BodyBudget ofHeap() {
    return new BodyBudget(Runtime.getRuntime().maxMemory() / 4);
  }

  public BodyBudget(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** Up to {@code wanted} bytes, as many as are left; the caller holds them until {@link #give}. */
  public int take(int wanted) {
    int granted = (int) Math.max(0, Math.min(wanted, maxBytes - held));
    held += granted;
    return granted;
  }

  public void give(long bytes) {
    held = Math.max(0, held - bytes);
  }

  /** Bytes held now. */
  public long held() {
    return held;
  }
}
