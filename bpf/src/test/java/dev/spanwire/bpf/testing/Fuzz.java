package dev.spanwire.bpf.testing;

import java.security.SecureRandom;
import java.util.Random;

/**
 * Seeded fuzz loops in plain JUnit: a target runs its case {@code spanwire.fuzz.tries} times
 * (2,000 in every build; bench/fuzz.sh asks for more), each case drawing its input from its own
 * {@link Random}. The seeds start at {@code spanwire.fuzz.seed}, random unless given, and a failure
 * names the seed of the case that failed, so {@code -Dspanwire.fuzz.seed=S -Dspanwire.fuzz.tries=1}
 * runs exactly that case again.
 */
public final class Fuzz {
  public static final String TRIES = "spanwire.fuzz.tries";
  public static final String SEED = "spanwire.fuzz.seed";

  /** One case: draws its input from {@code random} and checks it, throwing when it fails. */
  public interface Case {
    void run(Random random) throws Exception;
  }

  private Fuzz() {}

  /** Runs {@code body} for every try; prints the tries, the first seed and the time taken. */
  public static void run(String target, Case body) {
    int tries = Integer.getInteger(TRIES, 2000);
    long first = Long.getLong(SEED, new SecureRandom().nextLong());
    long start = System.nanoTime();
    for (int i = 0; i < tries; i++) {
      long seed = first + i;
      try {
        body.run(new Random(seed));
      } catch (Throwable failure) {
        throw new AssertionError(target + ": case " + i + " failed; run it alone with -D" + SEED + "=" + seed
            + " -D" + TRIES + "=1", failure);
      }
    }
    System.out.printf("fuzz %s: %d tries from seed %d in %d ms%n", target, tries, first,
        (System.nanoTime() - start) / 1_000_000);
  }
}
