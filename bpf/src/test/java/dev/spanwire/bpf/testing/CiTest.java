package dev.spanwire.bpf.testing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CiTest {
  @Test
  void anyValueButAnExplicitNoMeansCi() {
    for (String yes : new String[] {"true", "TRUE", "1", "yes", "on", " true "}) {
      assertThat(Ci.on(yes)).as(yes).isTrue();
    }
    for (String no : new String[] {null, "", "0", "false", "False", "no", "off", "  "}) {
      assertThat(Ci.on(no)).as(String.valueOf(no)).isFalse();
    }
  }
}
