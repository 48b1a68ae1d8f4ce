package dev.spanwire.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The Java layouts against the BTF clang wrote for spanwire.h; no kernel needed. */
class EventLayoutsTest {
  private static BpfObject object;

  @BeforeAll
  static void open() {
    object = BpfObject.openResource(SocketCapture.class, SocketCapture.OBJECT);
  }

  @AfterAll
  static void close() {
    object.close();
  }

  @ParameterizedTest
  @CsvSource({
    "event_header, EVENT_HEADER",
    "conn_open_event, CONN_OPEN_EVENT",
    "data_event, DATA_EVENT",
    "conn_close_event, CONN_CLOSE_EVENT",
    "capture_config, CAPTURE_CONFIG",
    "capture_stats, CAPTURE_STATS",
    "proc_event, PROC_EVENT",
    "conn_info, CONN_INFO"
  })
  void javaLayoutMatchesTheCStruct(String struct, String field) throws ReflectiveOperationException {
    StructLayout layout = (StructLayout) EventLayouts.class.getDeclaredField(field).get(null);
    BtfStructs.Struct c = BtfStructs.read(object, struct);
    assertThat(layout.byteSize()).as("size of %s", struct).isEqualTo(c.size());
    assertThat(namedOffsets(layout)).as("members of %s", struct).isEqualTo(c.memberOffsets());
  }

  @org.junit.jupiter.api.Test
  void dataEventHeadIsTheDataEventWithoutPayload() {
    BtfStructs.Struct c = BtfStructs.read(object, "data_event");
    assertThat(EventLayouts.DATA_EVENT_HEAD.byteSize()).isEqualTo(c.memberOffsets().get("data"));
  }

  private static Map<String, Long> namedOffsets(StructLayout layout) {
    Map<String, Long> offsets = new LinkedHashMap<>();
    for (MemoryLayout member : layout.memberLayouts()) {
      member.name().ifPresent(name -> offsets.put(name, layout.byteOffset(MemoryLayout.PathElement.groupElement(name))));
    }
    return offsets;
  }
}
