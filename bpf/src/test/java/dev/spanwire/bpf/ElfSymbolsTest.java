package dev.spanwire.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.testing.Peers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The file offsets uprobes are attached at, against binutils' readelf: each symbol's address
 * (from {@code --dyn-syms}) taken to the file through the loadable segment that holds it (from the
 * program headers), not through section headers as the code under test does.
 */
class ElfSymbolsTest {
  private static final Set<String> SSL = Set.of("SSL_read", "SSL_write", "SSL_read_ex", "SSL_write_ex");
  private static final Path LIBSSL = Path.of("/usr/lib/x86_64-linux-gnu/libssl.so.3");

  @Test
  void theSystemLibsslsFunctionsAreWhereReadelfPutsThem() throws IOException {
    Peers.require("readelf");
    Path libssl = Files.isRegularFile(LIBSSL) ? LIBSSL : firstLibssl();
    assertThat(ElfSymbols.functionOffsets(libssl, SSL)).isEqualTo(readelfOffsets(libssl, SSL)).hasSize(4);
  }

  /** node links OpenSSL in and loads at 0x400000: an address is not its file offset there. */
  @Test
  void nodesStaticOpensslIsFoundAtFileOffsetsNotAddresses() throws IOException {
    Peers.require("readelf");
    Peers.require("node");
    Path node = Path.of(Peers.run(java.time.Duration.ofSeconds(30), "node", "-p", "process.execPath").assertSuccess().out().strip());
    Map<String, Long> expected = readelfOffsets(node, SSL);
    assertThat(expected).hasSize(4);
    assertThat(ElfSymbols.functionOffsets(node, SSL)).isEqualTo(expected);
  }

  /** A file without a GNU hash table (its type changed here) is searched symbol by symbol: the same offsets. */
  @Test
  void withoutAGnuHashTableEverySymbolIsSearched(@TempDir Path dir) throws IOException {
    Peers.require("readelf");
    Path libssl = Files.isRegularFile(LIBSSL) ? LIBSSL : firstLibssl();
    String sections = Peers.run(java.time.Duration.ofSeconds(30), "readelf", "-SW", libssl.toString()).assertSuccess().out();
    Matcher gnuHash = Pattern.compile("\\[\\s*(\\d+)\\]\\s+\\.gnu\\.hash\\s+GNU_HASH").matcher(sections);
    assertThat(gnuHash.find()).as(sections).isTrue();
    byte[] bytes = Files.readAllBytes(libssl);
    java.nio.ByteBuffer elf = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    long header = elf.getLong(0x28) + (long) Integer.parseInt(gnuHash.group(1)) * elf.getShort(0x3a);
    elf.putInt((int) header + 4, 1); // SHT_PROGBITS
    Path plain = Files.write(dir.resolve("libssl-no-gnu-hash.so"), bytes);
    assertThat(Peers.run(java.time.Duration.ofSeconds(30), "readelf", "-SW", plain.toString()).assertSuccess().out())
        .doesNotContain("GNU_HASH");
    assertThat(ElfSymbols.functionOffsets(plain, SSL)).isEqualTo(readelfOffsets(libssl, SSL)).hasSize(4);
  }

  @Test
  void aFileThatDoesNotExportThemGivesNone() throws IOException {
    Peers.require("curl");
    Path curl = Path.of(Peers.run(java.time.Duration.ofSeconds(30), "sh", "-c", "readlink -f $(command -v curl)")
        .assertSuccess().out().strip());
    assertThat(ElfSymbols.functionOffsets(curl, SSL)).isEmpty();
  }

  @Test
  void aNameMatchesWholeNotAsAPrefix() throws IOException {
    Path libssl = Files.isRegularFile(LIBSSL) ? LIBSSL : firstLibssl();
    assertThat(ElfSymbols.functionOffsets(libssl, Set.of("SSL_rea", "SSL_write_e"))).isEmpty();
    assertThat(ElfSymbols.functionOffsets(libssl, Set.of("SSL_read")).keySet()).containsExactly("SSL_read");
  }

  @Test
  void notElfTruncatedOrEmptyGivesNoneAndNoException(@TempDir Path dir) throws IOException {
    Path empty = Files.write(dir.resolve("empty"), new byte[0]);
    Path text = Files.writeString(dir.resolve("script.sh"), "#!/bin/sh\necho SSL_read\n".repeat(20));
    assertThat(ElfSymbols.functionOffsets(empty, SSL)).isEmpty();
    assertThat(ElfSymbols.functionOffsets(text, SSL)).isEmpty();
    Path libssl = Files.isRegularFile(LIBSSL) ? LIBSSL : firstLibssl();
    byte[] whole = Files.readAllBytes(libssl);
    for (int length : List.of(64, 4096, whole.length / 2, whole.length - 1)) {
      Path cut = Files.write(dir.resolve("cut-" + length), java.util.Arrays.copyOf(whole, length));
      // the section headers sit at the end: a cut file has none to follow
      assertThat(ElfSymbols.functionOffsets(cut, SSL)).as("first %d bytes", length).isEmpty();
    }
    // section headers claiming a table past the end of the file
    byte[] hostile = whole.clone();
    java.nio.ByteBuffer.wrap(hostile).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0x28, whole.length - 64);
    assertThat(ElfSymbols.functionOffsets(Files.write(dir.resolve("hostile"), hostile), SSL)).isEmpty();
  }

  private static Path firstLibssl() throws IOException {
    String found = Peers.run(java.time.Duration.ofSeconds(30), "sh", "-c", "ldconfig -p | grep -m1 -o '/.*libssl.so.3$'")
        .assertSuccess().out().strip();
    return Path.of(found);
  }

  /** name -> file offset, from readelf's dynamic symbols and program headers. */
  private static Map<String, Long> readelfOffsets(Path file, Set<String> wanted) {
    String segments = Peers.run(java.time.Duration.ofSeconds(30), "readelf", "-lW", file.toString()).assertSuccess().out();
    // LOAD  offset  virtaddr  physaddr  filesz  memsz  flags  align
    Pattern load = Pattern.compile("^\\s*LOAD\\s+0x(\\p{XDigit}+)\\s+0x(\\p{XDigit}+)\\s+0x\\p{XDigit}+\\s+0x(\\p{XDigit}+)", Pattern.MULTILINE);
    List<long[]> loads = load.matcher(segments).results()
        .map(m -> new long[] {Long.parseUnsignedLong(m.group(1), 16), Long.parseUnsignedLong(m.group(2), 16),
            Long.parseUnsignedLong(m.group(3), 16)})
        .toList();
    assertThat(loads).isNotEmpty();
    String symbols = Peers.run(java.time.Duration.ofSeconds(60), "readelf", "-W", "--dyn-syms", file.toString()).assertSuccess().out();
    //    Num:    Value          Size Type    Bind   Vis      Ndx Name
    Pattern symbol = Pattern.compile("^\\s*\\d+:\\s+(\\p{XDigit}+)\\s+\\d+\\s+FUNC\\s+\\S+\\s+\\S+\\s+\\d+\\s+([^@\\s]+)", Pattern.MULTILINE);
    Map<String, Long> offsets = new HashMap<>();
    Matcher m = symbol.matcher(symbols);
    while (m.find()) {
      if (!wanted.contains(m.group(2))) {
        continue;
      }
      long address = Long.parseUnsignedLong(m.group(1), 16);
      for (long[] segment : loads) {
        if (address >= segment[1] && address < segment[1] + segment[2]) {
          offsets.putIfAbsent(m.group(2), address - segment[1] + segment[0]);
        }
      }
    }
    return offsets;
  }
}
