package dev.spanwire.exporter.protocol.http2;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spanwire.exporter.testing.Corpora;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every story of http2jp's hpack-test-case (13 encoders' output, nobody here wrote it): one decoder
 * per story, its header blocks in order, each giving exactly the story's headers.
 */
class HpackCorpusTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static Stream<Path> stories() throws IOException {
    Path root = Corpora.require("hpack-test-case");
    List<Path> stories = new ArrayList<>();
    try (Stream<Path> encoders = Files.list(root)) {
      for (Path encoder : encoders.filter(Files::isDirectory).filter(d -> !d.getFileName().toString().equals("raw-data")).sorted().toList()) {
        try (Stream<Path> files = Files.list(encoder)) {
          files.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().forEach(stories::add);
        }
      }
    }
    assertThat(stories).as("stories under %s", root).hasSizeGreaterThan(300);
    return stories.stream();
  }

  @ParameterizedTest
  @MethodSource("stories")
  void everyHeaderBlockOfTheStoryDecodesToItsHeaders(Path story) throws IOException {
    JsonNode cases = JSON.readTree(story.toFile()).get("cases");
    HpackDecoder decoder = new HpackDecoder(true);
    for (JsonNode c : cases) {
      if (c.has("header_table_size")) {
        decoder.allowTableSize(c.get("header_table_size").asLong());
      }
      byte[] wire = HexFormat.of().parseHex(c.get("wire").asText());
      List<String> decoded = new ArrayList<>();
      boolean ok = decoder.decode(wire, 0, wire.length, (name, value) -> decoded.add(name + ": " + value));
      List<String> expected = new ArrayList<>();
      for (JsonNode header : c.get("headers")) {
        header.fields().forEachRemaining(e -> expected.add(e.getKey() + ": " + e.getValue().asText()));
      }
      assertThat(ok).as("%s case %s decodes", story, c.get("seqno")).isTrue();
      assertThat(decoded).as("%s case %s", story, c.get("seqno")).containsExactlyElementsOf(expected);
    }
    assertThat(decoder.unknownFields()).isZero();
  }
}
