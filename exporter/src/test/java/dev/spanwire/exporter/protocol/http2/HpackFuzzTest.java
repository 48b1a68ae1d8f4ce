package dev.spanwire.exporter.protocol.http2;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spanwire.exporter.exchange.Headers;
import dev.spanwire.exporter.testing.Mutator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import dev.spanwire.bpf.testing.Fuzz;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the HPACK decoder with mutants of every story of hpack-test-case (13 encoders' header
 * blocks, decoded in order on one decoder so the dynamic table carries over), and throws HPACK
 * bombs at it: a block decodes or is refused (false), never throws; the table never holds more
 * than {@link HpackDecoder#MAX_TABLE_SIZE}; no string is longer than {@link HpackDecoder#MAX_STRING};
 * a block gives at most one field per byte.
 */
class HpackFuzzTest {
  private static final List<List<byte[]>> STORIES = new ArrayList<>();
  private static final List<byte[]> BLOCKS = new ArrayList<>();

  @BeforeAll
  static void loadStories() throws IOException {
    ObjectMapper json = new ObjectMapper();
    for (Path story : HpackCorpusTest.stories().toList()) {
      List<byte[]> blocks = new ArrayList<>();
      for (JsonNode c : json.readTree(story.toFile()).get("cases")) {
        blocks.add(HexFormat.of().parseHex(c.get("wire").asText()));
      }
      STORIES.add(blocks);
      BLOCKS.addAll(blocks);
    }
  }

  /** A story's blocks, each mutated, and the table size the receiver allowed. */
  record Story(List<byte[]> blocks, long allowed) {
    @Override
    public String toString() {
      return "Story[" + blocks.stream().map(HexFormat.of()::formatHex).toList() + ", allowed=" + allowed + "]";
    }
  }

  private static final long[] ALLOWED = {0L, 256L, 4096L, 65536L, 1L << 20, Long.MAX_VALUE};

  @Test
  void everyBlockDecodesOrIsRefusedWithinBounds() {
    Fuzz.run("hpack", random -> {
      List<byte[]> blocks = new ArrayList<>();
      for (byte[] block : STORIES.get(random.nextInt(STORIES.size()))) {
        blocks.add(random.nextInt(4) == 0 ? Mutator.mutate(BLOCKS, block, random) : block);
      }
      check(new Story(blocks, ALLOWED[random.nextInt(ALLOWED.length)]));
    });
  }

  private static void check(Story story) {
    HpackDecoder decoder = new HpackDecoder(true);
    decoder.allowTableSize(story.allowed());
    for (byte[] block : story.blocks()) {
      int[] fields = {0};
      decoder.decode(block, 0, block.length, (name, value) -> {
        fields[0]++;
        if (name != null) {
          assertThat(name.length()).as("%s", story).isLessThanOrEqualTo(HpackDecoder.MAX_STRING);
          assertThat(value.length()).as("%s", story).isLessThanOrEqualTo(HpackDecoder.MAX_STRING);
        }
      });
      assertThat(fields[0]).as("%s", story).isLessThanOrEqualTo(block.length);
      assertThat(decoder.tableSize()).as("%s", story).isBetween(0, HpackDecoder.MAX_TABLE_SIZE);
      assertThat(decoder.tableEntries() * 32L).as("%s", story).isLessThanOrEqualTo(decoder.tableSize());
    }
  }

  private static boolean decodes(HpackDecoder decoder, byte[] block, List<String> into) {
    return decoder.decode(block, 0, block.length, (name, value) -> into.add(name + ": " + value));
  }

  private static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }

  @Test
  void aTableSizeUpdateBeyondTheBoundIsRefused() {
    // 001xxxxx with a 5-bit prefix: 2^31 - 1 (31 + 0xffffff7f... as RFC 7541 5.1), then 65537
    HpackDecoder decoder = new HpackDecoder(true);
    assertThat(decoder.decode(bytes(0x3f, 0xe0, 0xff, 0xff, 0xff, 0x07), 0, 6, (n, v) -> {})).isFalse();
    assertThat(decoder.trusted()).isFalse();
    HpackDecoder another = new HpackDecoder(true);
    int size = HpackDecoder.MAX_TABLE_SIZE + 1 - 31; // prefix 31, then 65506 = 0xffe2 in 7-bit groups
    assertThat(another.decode(bytes(0x3f, 0x80 | (size & 0x7f), 0x80 | ((size >> 7) & 0x7f), size >> 14), 0, 4, (n, v) -> {})).isFalse();
    // within it the update is taken and the table stays empty until entries come
    HpackDecoder fine = new HpackDecoder(true);
    int ok = HpackDecoder.MAX_TABLE_SIZE - 31;
    assertThat(fine.decode(bytes(0x3f, 0x80 | (ok & 0x7f), 0x80 | ((ok >> 7) & 0x7f), ok >> 14), 0, 4, (n, v) -> {})).isTrue();
    assertThat(fine.tableSize()).isZero();
  }

  @Test
  void anIntegerPastTwoToTheThirtyOneIsRefused() {
    HpackDecoder decoder = new HpackDecoder(true);
    assertThat(decoder.decode(bytes(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f), 0, 7, (n, v) -> {})).isFalse();
  }

  @Test
  void aHeaderListBlowUpGivesSharedStringsAndKeepsAtMostTheFieldBound() {
    // one 4,000-byte value in the table, then a 16 KiB block of 16,384 references to it: 64 MB of
    // header list by RFC 7541's count, and no copy made
    HpackDecoder decoder = new HpackDecoder(true);
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    block.write(0x40); // literal with incremental indexing, new name
    block.write(5);
    block.writeBytes("x-big".getBytes());
    block.write(0x7f); // 7-bit prefix length 127 + 3873 = 4000
    block.write(0x80 | (3873 & 0x7f));
    block.write(3873 >> 7);
    block.writeBytes("v".repeat(4000).getBytes());
    byte[] add = block.toByteArray();
    assertThat(decodes(decoder, add, new ArrayList<>())).isTrue();
    assertThat(decoder.tableEntries()).isEqualTo(1);
    assertThat(decoder.tableSize()).isEqualTo(5 + 4000 + 32);
    byte[] refs = new byte[16 * 1024];
    java.util.Arrays.fill(refs, (byte) (0x80 | 62)); // indexed: the newest dynamic entry
    List<String> values = new ArrayList<>();
    Http2Session.Fields kept = new Http2Session.Fields(null);
    boolean ok = decoder.decode(refs, 0, refs.length, (name, value) -> {
      values.add(value);
      kept.field(name, value);
    });
    assertThat(ok).isTrue();
    assertThat(values).hasSize(16 * 1024);
    assertThat(values).allSatisfy(v -> assertThat(v).isSameAs(values.getFirst()));
    assertThat(kept.headers().size()).isEqualTo(Headers.MAX_FIELDS);
  }

  @Test
  void huffmanPaddingThatIsNotTheEosPrefixOrLongerThanSevenBitsIsRefused() {
    // RFC 7541 5.2: padding longer than 7 bits, or not the most significant bits of EOS, is an error
    HpackDecoder decoder = new HpackDecoder(true);
    // literal without indexing, indexed name 1 (:authority), Huffman value
    byte[] eightBitsOfPadding = bytes(0x01, 0x82, 0x1f, 0xff); // 'a' (00011) then 11 bits of ones
    assertThat(decoder.decode(eightBitsOfPadding, 0, 4, (n, v) -> {})).isFalse();
    HpackDecoder other = new HpackDecoder(true);
    byte[] zeroPadding = bytes(0x01, 0x81, 0x18); // 'a' (00011) then 000: padding of zeros
    assertThat(other.decode(zeroPadding, 0, 3, (n, v) -> {})).isFalse();
    HpackDecoder good = new HpackDecoder(true);
    List<String> fields = new ArrayList<>();
    assertThat(decodes(good, bytes(0x01, 0x81, 0x1f), fields)).isTrue(); // 'a' then 111
    assertThat(fields).containsExactly(":authority: a");
  }

  @Test
  void aStringLongerThanItsBlockIsRefused() {
    HpackDecoder decoder = new HpackDecoder(true);
    assertThat(decoder.decode(bytes(0x01, 0x7f, 0xff, 0x7f, 'a'), 0, 5, (n, v) -> {})).isFalse();
  }
}
