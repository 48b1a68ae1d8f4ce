package dev.spanwire.exporter.protocol.http2;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The stream table against java.util.HashMap, through random puts and removes. */
class StreamTableTest {
  @Test
  void behavesAsAMapThroughRandomOperations() {
    Random random = new Random(7);
    StreamTable<String> table = new StreamTable<>();
    Map<Integer, String> reference = new HashMap<>();
    for (int step = 0; step < 200_000; step++) {
      int id = random.nextInt(3000) * 2 + 1;
      if (random.nextInt(3) == 0) {
        table.remove(id);
        reference.remove(id);
      } else {
        String value = "v" + step;
        assertThat(table.put(id, value)).isEqualTo(reference.put(id, value));
      }
      int probe = random.nextInt(3000) * 2 + 1;
      assertThat(table.get(probe)).isEqualTo(reference.get(probe));
      assertThat(table.size()).isEqualTo(reference.size());
    }
    assertThat(table.values()).containsExactlyInAnyOrderElementsOf(reference.values());
    table.clear();
    assertThat(table.size()).isZero();
    assertThat(table.get(1)).isNull();
  }

  @Test
  void leastFindsTheOldest() {
    StreamTable<long[]> table = new StreamTable<>();
    table.put(5, new long[] {3});
    table.put(7, new long[] {1});
    table.put(9, new long[] {2});
    assertThat(table.least(v -> v[0])[0]).isEqualTo(1);
  }
}
