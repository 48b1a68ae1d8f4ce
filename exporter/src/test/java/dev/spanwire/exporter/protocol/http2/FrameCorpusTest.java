package dev.spanwire.exporter.protocol.http2;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spanwire.exporter.testing.Corpora;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * http2jp's http2-frame-test-case: each wire, read by the frame reader in one piece and byte by
 * byte, gives the corpus's frame (every payload field) or one of its error codes.
 */
class FrameCorpusTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static Stream<Path> cases() throws IOException {
    Path root = Corpora.require("http2-frame-test-case");
    List<Path> cases = new ArrayList<>();
    try (Stream<Path> files = Files.walk(root)) {
      files.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().forEach(cases::add);
    }
    assertThat(cases).as("cases under %s", root).hasSize(34);
    return cases.stream();
  }

  /** What the reader reported. */
  private static final class Recorder implements FrameReader.Listener {
    final List<Integer> errors = new ArrayList<>();
    int frames;
    int type = -1;
    int flags;
    int stream;
    final ByteArrayOutputStream payload = new ByteArrayOutputStream();
    long dataCount;
    boolean lost;

    @Override
    public void frame(int type, int flags, int stream, byte[] bytes, int length, boolean cut, long t) {
      frames++;
      this.type = type;
      this.flags = flags;
      this.stream = stream;
      payload.write(bytes, 0, length);
    }

    @Override
    public void data(int stream, int flags, byte[] bytes, int offset, int captured, long count, boolean first,
        boolean last, long t) {
      if (first) {
        frames++;
      }
      this.type = FrameReader.DATA;
      this.flags = flags;
      this.stream = stream;
      if (bytes != null) {
        payload.write(bytes, offset, captured);
      }
      dataCount += count;
    }

    @Override
    public void lost(long t) {
      lost = true;
    }

    @Override
    public void malformed(int type, int code, long t) {
      errors.add(code);
    }
  }

  @ParameterizedTest
  @MethodSource("cases")
  void everyFrameDecodesToTheCorpusFrameOrError(Path file) throws IOException {
    JsonNode c = JSON.readTree(file.toFile());
    byte[] wire = HexFormat.of().parseHex(c.get("wire").asText());
    for (boolean byteByByte : new boolean[] {false, true}) {
      Recorder recorder = new Recorder();
      FrameReader reader = new FrameReader(recorder, false, true);
      if (byteByByte) {
        for (int i = 0; i < wire.length; i++) {
          reader.feed(wire, i, 1, i);
        }
      } else {
        reader.feed(wire, 0, wire.length, 0);
      }
      String how = file.getParent().getFileName() + "/" + file.getFileName() + (byteByByte ? " byte by byte" : "");
      if (!c.get("error").isNull()) {
        List<Integer> allowed = new ArrayList<>();
        c.get("error").forEach(e -> allowed.add(e.asInt()));
        int length = ((wire[0] & 0xff) << 16) | ((wire[1] & 0xff) << 8) | (wire[2] & 0xff);
        if (length > Http2Frames.DEFAULT_MAX_FRAME_SIZE) {
          // longer than the default SETTINGS_MAX_FRAME_SIZE the corpus assumes: the rule says so,
          // but the reader reads such a frame (real peers send and take them; see FrameReader)
          assertThat(Http2Frames.headerError(wire[3] & 0xff, wire[4] & 0xff, 1, length, Http2Frames.DEFAULT_MAX_FRAME_SIZE))
              .as(how).isIn(allowed);
          assertThat(recorder.errors).as(how).isEmpty();
          continue;
        }
        assertThat(recorder.errors).as(how).hasSize(1);
        assertThat(allowed).as(how).contains(recorder.errors.getFirst());
        assertThat(recorder.frames).as(how + ": nothing reported of it").isZero();
        continue;
      }
      JsonNode frame = c.get("frame");
      assertThat(recorder.errors).as(how).isEmpty();
      assertThat(recorder.frames).as(how).isEqualTo(1);
      assertThat(recorder.type).as(how).isEqualTo(frame.get("type").asInt());
      assertThat(recorder.flags).as(how).isEqualTo(frame.get("flags").asInt());
      assertThat(recorder.stream).as(how).isEqualTo(frame.get("stream_identifier").asInt());
      byte[] payload = recorder.payload.toByteArray();
      assertThat(payload.length).as(how).isEqualTo(frame.get("length").asInt());
      assertThat(fields(recorder.type, recorder.flags, payload)).as(how)
          .isEqualTo(expected(frame.get("frame_payload")));
    }
  }

  /** The corpus's payload fields, nulls left out. */
  private static Map<String, Object> expected(JsonNode payload) {
    Map<String, Object> fields = new LinkedHashMap<>();
    payload.fields().forEachRemaining(e -> {
      JsonNode v = e.getValue();
      if (v.isNull()) {
        return;
      }
      if (e.getKey().equals("settings")) {
        List<List<Long>> settings = new ArrayList<>();
        v.forEach(pair -> settings.add(List.of(pair.get(0).asLong(), pair.get(1).asLong())));
        fields.put("settings", settings);
      } else if (v.isBoolean()) {
        fields.put(e.getKey(), v.asBoolean());
      } else if (v.isNumber()) {
        fields.put(e.getKey(), v.asLong());
      } else {
        fields.put(e.getKey(), v.asText());
      }
    });
    return fields;
  }

  /** The payload fields as the product's frame rules read them. */
  private static Map<String, Object> fields(int type, int flags, byte[] p) {
    Map<String, Object> fields = new LinkedHashMap<>();
    int length = p.length;
    switch (type) {
      case FrameReader.DATA -> {
        int pad = Http2Frames.padLength(flags, p, length);
        int start = (flags & FrameReader.FLAG_PADDED) != 0 ? 1 : 0;
        fields.put("data", text(p, start, length - pad));
        padding(fields, flags, p, length, pad);
      }
      case FrameReader.HEADERS, FrameReader.PUSH_PROMISE -> {
        int start = Http2Frames.fragmentStart(type, flags, p, length);
        int end = Http2Frames.fragmentEnd(type, flags, p, length);
        if (type == FrameReader.PUSH_PROMISE) {
          fields.put("promised_stream_id", (long) Http2Frames.u31(p, start - 4));
        } else if ((flags & FrameReader.FLAG_PRIORITY) != 0) {
          priority(fields, p, start - 5);
        }
        fields.put("header_block_fragment", text(p, start, end));
        padding(fields, flags, p, length, length - end);
      }
      case FrameReader.PRIORITY -> priority(fields, p, 0);
      case FrameReader.RST_STREAM -> fields.put("error_code", Http2Frames.u32(p, 0));
      case FrameReader.SETTINGS -> {
        List<List<Long>> settings = new ArrayList<>();
        for (int i = 0; i + 6 <= length; i += 6) {
          settings.add(List.of((long) Http2Frames.u16(p, i), Http2Frames.u32(p, i + 2)));
        }
        fields.put("settings", settings);
      }
      case FrameReader.PING -> fields.put("opaque_data", text(p, 0, length));
      case FrameReader.GOAWAY -> {
        fields.put("last_stream_id", (long) Http2Frames.u31(p, 0));
        fields.put("error_code", Http2Frames.u32(p, 4));
        fields.put("additional_debug_data", text(p, 8, length));
      }
      case FrameReader.WINDOW_UPDATE -> fields.put("window_size_increment", (long) Http2Frames.u31(p, 0));
      case FrameReader.CONTINUATION -> fields.put("header_block_fragment", text(p, 0, length));
      default -> throw new AssertionError("type " + type);
    }
    return fields;
  }

  private static void priority(Map<String, Object> fields, byte[] p, int at) {
    fields.put("stream_dependency", (long) Http2Frames.u31(p, at));
    fields.put("weight", (long) (p[at + 4] & 0xff) + 1);
    fields.put("exclusive", (p[at] & 0x80) != 0);
  }

  private static void padding(Map<String, Object> fields, int flags, byte[] p, int length, int pad) {
    if ((flags & FrameReader.FLAG_PADDED) != 0) {
      fields.put("padding_length", (long) pad);
      fields.put("padding", text(p, length - pad, length));
    }
  }

  private static String text(byte[] p, int from, int to) {
    return new String(Arrays.copyOfRange(p, from, to), StandardCharsets.ISO_8859_1);
  }
}
