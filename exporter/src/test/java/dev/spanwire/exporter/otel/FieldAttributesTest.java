package dev.spanwire.exporter.otel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.exporter.exchange.Field;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import java.util.List;
import org.junit.jupiter.api.Test;

class FieldAttributesTest {
  @Test
  void keepsFieldsInOrderWithTheirTypes() {
    Attributes a = FieldAttributes.of(List.of(new Field("n", 3L), new Field("s", "x"), new Field("b", true)), "route", "/r");
    assertThat(a.size()).isEqualTo(4);
    assertThat(a.get(AttributeKey.longKey("n"))).isEqualTo(3L);
    assertThat(a.get(AttributeKey.stringKey("s"))).isEqualTo("x");
    assertThat(a.get(AttributeKey.booleanKey("b"))).isTrue();
    assertThat(a.asMap().keySet()).extracting(AttributeKey::getKey).containsExactly("n", "s", "b", "route");
  }

  @Test
  void headerNamesFromTrafficDoNotGrowTheKeyCacheWithoutBound() {
    // watched headers name attributes after whatever headers arrive
    for (int i = 0; i < FieldAttributes.MAX_CACHED_KEYS * 3; i++) {
      Attributes a = FieldAttributes.of(List.of(new Field("http_request_header_x_" + i, "v")), "route", "/");
      assertThat(a.get(AttributeKey.stringKey("http_request_header_x_" + i))).isEqualTo("v");
    }
    assertThat(FieldAttributes.cachedKeys()).isLessThanOrEqualTo(FieldAttributes.MAX_CACHED_KEYS);
  }
}
