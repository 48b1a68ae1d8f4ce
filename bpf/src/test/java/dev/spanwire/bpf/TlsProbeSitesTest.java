package dev.spanwire.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.spanwire.bpf.ElfSymbols.Function;
import dev.spanwire.bpf.TlsProbeSites.Site;
import dev.spanwire.bpf.testing.Peers;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Where the TLS probes go: on the internal function OpenSSL's calls share when the code proves it
 * (Debian's OpenSSL 3 against objdump's disassembly), on the exported functions otherwise (node's
 * OpenSSL, which opens with an emulated push; and hand-assembled code that breaks each condition).
 */
class TlsProbeSitesTest {
  private static final Path LIBSSL = Path.of("/usr/lib/x86_64-linux-gnu/libssl.so.3");

  @Test
  void debiansOpensslIsHookedWhereSslReadAndSslReadExMeet() throws IOException {
    Peers.require("objdump");
    String readEx = disassemble(LIBSSL, "SSL_read_ex");
    String writeEx = disassemble(LIBSSL, "SSL_write_ex");
    assumeThat(readEx).as("Debian 12's OpenSSL 3.0 build (SSL_read_ex opens with sub, not an emulated push)")
        .contains("sub    $0x8,%rsp");
    long read = firstCall(readEx);
    long write = firstCall(writeEx);
    assertThat(disassemble(LIBSSL, "SSL_read")).contains("call   " + Long.toHexString(read) + " ");
    assertThat(disassemble(LIBSSL, "SSL_write")).contains("call   " + Long.toHexString(write) + " ");

    List<Site> sites = sitesOf(LIBSSL);

    // .text lies at its own address in this file, so objdump's addresses are the file offsets
    assertThat(sites).containsExactly(
        new Site("SSL_write_ex's callee", write, "handle_ssl_call_ex", "handle_ssl_write_ret"),
        new Site("SSL_read_ex's callee", read, "handle_ssl_call_ex", "handle_ssl_read_ret"));
  }

  @Test
  void nodesOpensslOpensWithAPushAndKeepsItsEntries() throws IOException {
    Peers.require("node");
    Peers.require("objdump");
    Path node = Path.of(Peers.run(Duration.ofSeconds(30), "node", "-p", "process.execPath").assertSuccess().out().strip());
    Map<String, Long> offsets = ElfSymbols.functionOffsets(node, TlsProbeSites.FUNCTIONS);
    assertThat(offsets).hasSize(4);

    List<Site> sites = sitesOf(node);

    assertThat(sites).containsExactly(
        new Site("SSL_write", offsets.get("SSL_write"), "handle_ssl_call", "handle_ssl_write_ret"),
        new Site("SSL_write_ex", offsets.get("SSL_write_ex"), "handle_ssl_call_ex", "handle_ssl_write_ret"),
        new Site("SSL_read", offsets.get("SSL_read"), "handle_ssl_call", "handle_ssl_read_ret"),
        new Site("SSL_read_ex", offsets.get("SSL_read_ex"), "handle_ssl_call_ex", "handle_ssl_read_ret"));
  }

  // hand-assembled code: SSL_read_ex at 0x100, SSL_read at 0x200, the callee at 0x400
  private static final String ENDBR = "f30f1efa";
  private static final String SUB8 = "4883ec08";
  private static final String CALLEE = "415455"; // push %r12; push %rbp

  @Test
  void aWrapperWithEndbrAndSubIsFollowedToItsCallee() throws IOException {
    Image image = new Image()
        .at(0x100, ENDBR + SUB8 + call(0x100 + 8, 0x400) + "4883c408c3")
        .at(0x200, SUB8 + "85d2782f" + call(0x200 + 8, 0x400) + "4883c408c3")
        .at(0x400, CALLEE + "c3");
    assertThat(image.readSites(0x100, 22, 0x200, 22))
        .containsExactly(new Site("SSL_read_ex's callee", 0x400, "handle_ssl_call_ex", "handle_ssl_read_ret"));
  }

  @Test
  void aTailJumpIsAWrapperToo() throws IOException {
    Image image = new Image()
        .at(0x100, ENDBR + jump(0x100 + 4, 0x400))
        .at(0x200, SUB8 + call(0x200 + 4, 0x400) + "4883c408c3")
        .at(0x400, CALLEE + "c3");
    assertThat(image.readSites(0x100, 9, 0x200, 14)).extracting(Site::offset).containsExactly(0x400L);
  }

  /** OpenSSL 3.2's SSL_write_ex passes a flags argument on: the callee's arguments are not SSL_write_ex's. */
  @Test
  void aWrapperThatMovesArgumentsIsNotFollowed() throws IOException {
    Image image = new Image()
        .at(0x100, ENDBR + "4989c8" + "31c9" + jump(0x100 + 9, 0x400)) // mov %rcx,%r8; xor %ecx,%ecx; jmp
        .at(0x200, SUB8 + call(0x200 + 4, 0x400) + "4883c408c3")
        .at(0x400, CALLEE + "c3");
    assertThat(image.readSites(0x100, 14, 0x200, 14)).containsExactlyElementsOf(entries());
  }

  @Test
  void aCalleeThatIsNotEmulatedGainsNothing() throws IOException {
    Image image = new Image()
        .at(0x100, SUB8 + call(0x100 + 4, 0x400) + "4883c408c3")
        .at(0x200, SUB8 + call(0x200 + 4, 0x400) + "4883c408c3")
        .at(0x400, ENDBR + CALLEE + "c3");
    assertThat(image.readSites(0x100, 14, 0x200, 14)).containsExactlyElementsOf(entries());
  }

  /** Hooking the callee while SSL_read does not call it would lose SSL_read's calls. */
  @Test
  void aPlainCallThatDoesNotReachTheCalleeKeepsTheEntries() throws IOException {
    Image image = new Image()
        .at(0x100, SUB8 + call(0x100 + 4, 0x400) + "4883c408c3")
        .at(0x200, SUB8 + call(0x200 + 4, 0x500) + "4883c408c3")
        .at(0x400, CALLEE + "c3")
        .at(0x500, CALLEE + "c3");
    assertThat(image.readSites(0x100, 14, 0x200, 14)).containsExactlyElementsOf(entries());
  }

  @Test
  void codeTheDecoderDoesNotKnowKeepsTheEntries() throws IOException {
    Image image = new Image()
        .at(0x100, SUB8 + call(0x100 + 4, 0x400) + "4883c408c3")
        .at(0x200, SUB8 + "c5f96f07" + call(0x200 + 8, 0x400) + "4883c408c3") // a VEX load before the call
        .at(0x400, CALLEE + "c3");
    assertThat(image.readSites(0x100, 14, 0x200, 18)).containsExactlyElementsOf(entries());
  }

  @Test
  void aCallOutOfTheSectionIsNotFollowed() throws IOException {
    Image image = new Image()
        .at(0x100, SUB8 + call(0x100 + 4, 0x40) + "4883c408c3") // to 0x40: before the section's start at 0x80
        .at(0x200, SUB8 + call(0x200 + 4, 0x40) + "4883c408c3")
        .at(0x40, CALLEE + "c3");
    assertThat(image.readSites(0x100, 14, 0x200, 14)).containsExactlyElementsOf(entries());
  }

  @Test
  void anEntryThatIsEmulatedAlreadyStaysWhereItIs() throws IOException {
    Image image = new Image()
        .at(0x100, "55" + "4889e5" + call(0x100 + 4, 0x400) + "5dc3")
        .at(0x200, "55" + "4889e5" + call(0x200 + 4, 0x400) + "5dc3")
        .at(0x400, CALLEE + "c3");
    assertThat(image.readSites(0x100, 11, 0x200, 11)).containsExactlyElementsOf(entries());
  }

  private static List<Site> entries() {
    return List.of(
        new Site("SSL_read", 0x200, "handle_ssl_call", "handle_ssl_read_ret"),
        new Site("SSL_read_ex", 0x100, "handle_ssl_call_ex", "handle_ssl_read_ret"));
  }

  /** {@code call rel32} at {@code from} to {@code to}. */
  private static String call(int from, int to) {
    return "e8" + rel32(to - (from + 5));
  }

  private static String jump(int from, int to) {
    return "e9" + rel32(to - (from + 5));
  }

  private static String rel32(int value) {
    return String.format("%02x%02x%02x%02x", value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24);
  }

  /** A 4 KiB file image whose text section starts at 0x80. */
  private static final class Image {
    private final byte[] bytes = new byte[4096];

    Image at(int offset, String hex) {
      byte[] code = HexFormat.of().parseHex(hex);
      System.arraycopy(code, 0, bytes, offset, code.length);
      return this;
    }

    /** The read direction's sites with SSL_read_ex and SSL_read at these offsets and sizes. */
    List<Site> readSites(int exOffset, int exSize, int plainOffset, int plainSize) throws IOException {
      Map<String, Function> defined = Map.of(
          "SSL_read_ex", new Function(exOffset, exSize, 0x80, bytes.length - 0x80),
          "SSL_read", new Function(plainOffset, plainSize, 0x80, bytes.length - 0x80));
      return TlsProbeSites.choose(defined, (offset, length) ->
          java.util.Arrays.copyOfRange(bytes, (int) offset, (int) Math.min(bytes.length, offset + length)));
    }
  }

  private static List<Site> sitesOf(Path file) throws IOException {
    Map<String, Function> defined = ElfSymbols.functions(file, TlsProbeSites.FUNCTIONS);
    try (var channel = java.nio.channels.FileChannel.open(file)) {
      return TlsProbeSites.choose(defined, (offset, length) -> {
        var buffer = java.nio.ByteBuffer.allocate(length);
        channel.read(buffer, offset);
        return java.util.Arrays.copyOf(buffer.array(), buffer.position());
      });
    }
  }

  /** objdump's disassembly of one exported function. */
  private static String disassemble(Path file, String function) {
    String symbols = Peers.run(Duration.ofSeconds(30), "nm", "-DS", "--defined-only", file.toString()).assertSuccess().out();
    Matcher m = Pattern.compile("^(\\p{XDigit}+) (\\p{XDigit}+) T " + function + "(@|$)", Pattern.MULTILINE).matcher(symbols);
    assertThat(m.find()).as(function).isTrue();
    long start = Long.parseLong(m.group(1), 16);
    long size = Long.parseLong(m.group(2), 16);
    return Peers.run(Duration.ofSeconds(30), "objdump", "-d", "--no-show-raw-insn", "--start-address=0x" + Long.toHexString(start),
        "--stop-address=0x" + Long.toHexString(start + size), file.toString()).assertSuccess().out();
  }

  /** The target of the first {@code call} in a disassembly. */
  private static long firstCall(String disassembly) {
    Matcher call = Pattern.compile("\\tcall\\s+(\\p{XDigit}+) ").matcher(disassembly);
    assertThat(call.find()).as(disassembly).isTrue();
    return Long.parseLong(call.group(1), 16);
  }
}
