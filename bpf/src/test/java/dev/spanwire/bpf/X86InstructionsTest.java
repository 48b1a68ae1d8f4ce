package dev.spanwire.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.testing.Peers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Instruction lengths against literal encodings (from the Intel manual's opcode maps) and against
 * binutils' objdump over every exported function of the system's libssl and libcrypto: where the
 * decoder gives a length it must be objdump's, and it must know the code OpenSSL's C compiles to.
 */
class X86InstructionsTest {
  private static final Path LIBS = Path.of("/usr/lib/x86_64-linux-gnu");

  @Test
  void lengthsOfLiteralEncodings() {
    String[][] cases = {
        {"48 83 ec 18", "4"}, // sub $0x18,%rsp
        {"41 55", "2"}, // push %r13
        {"55", "1"}, // push %rbp
        {"f3 0f 1e fa", "4"}, // endbr64
        {"64 48 8b 04 25 28 00 00 00", "9"}, // mov %fs:0x28,%rax
        {"48 89 44 24 08", "5"}, // mov %rax,0x8(%rsp)
        {"48 63 d2", "3"}, // movslq %edx,%rdx
        {"e8 3d fe ff ff", "5"}, // call rel32
        {"0f 84 2d 01 00 00", "6"}, // je rel32
        {"78 2f", "2"}, // js rel8
        {"48 8d 15 e5 d4 04 00", "7"}, // lea rel(%rip),%rdx
        {"66 0f 1f 44 00 00", "6"}, // nopw 0x0(%rax,%rax,1)
        {"66 2e 0f 1f 84 00 00 00 00 00", "10"}, // cs nopw 0x0(%rax,%rax,1)
        {"48 b8 01 02 03 04 05 06 07 08", "10"}, // movabs $imm64,%rax
        {"b8 01 00 00 00", "5"}, // mov $1,%eax
        {"66 b8 01 00", "4"}, // mov $1,%ax
        {"66 81 7f 04 00 03", "6"}, // cmpw $0x300,0x4(%rdi)
        {"f6 47 44 02", "4"}, // testb $0x2,0x44(%rdi)
        {"f7 d8", "2"}, // neg %eax: no immediate in f7 /3
        {"f7 c2 00 00 00 80", "6"}, // test $0x80000000,%edx
        {"c7 44 24 0c 00 00 00 00", "8"}, // movl $0,0xc(%rsp)
        {"48 8b 04 c5 00 00 00 00", "8"}, // mov 0x0(,%rax,8),%rax: SIB without a base
        {"c3", "1"},
        {"0f 1f 80 00 00 00 00", "7"}, // nopl 0x0(%rax)
        {"66 0f 3a 0f c1 08", "6"}, // palignr $8,%xmm1,%xmm0
        {"66 0f 38 00 c1", "5"}, // pshufb %xmm1,%xmm0
        {"c5 f9 6f 07", "-1"}, // VEX: not known
        {"62 f1 7d 48 6f 07", "-1"}, // EVEX: not known
        {"06", "-1"}, // invalid in 64-bit mode
        {"48 83 ec", "-1"}, // cut short
    };
    for (String[] c : cases) {
      byte[] code = HexFormat.ofDelimiter(" ").parseHex(c[0]);
      assertThat(X86Instructions.length(code, 0)).as(c[0]).isEqualTo(Integer.parseInt(c[1]));
    }
  }

  @Test
  void whatTheKernelEmulates() {
    assertThat(X86Instructions.emulatedByUprobes(HexFormat.of().parseHex("55"), 0)).isTrue();
    assertThat(X86Instructions.emulatedByUprobes(HexFormat.of().parseHex("4155"), 0)).isTrue();
    assertThat(X86Instructions.emulatedByUprobes(HexFormat.of().parseHex("e800000000"), 0)).isTrue();
    assertThat(X86Instructions.emulatedByUprobes(HexFormat.of().parseHex("4883ec18"), 0)).isFalse();
    assertThat(X86Instructions.emulatedByUprobes(HexFormat.of().parseHex("f30f1efa"), 0)).isFalse();
    assertThat(X86Instructions.emulatedByUprobes(HexFormat.of().parseHex("4c55"), 0)).isFalse(); // REX.WR push: not emulated
  }

  @Test
  void agreesWithObjdumpOnLibssl() throws IOException {
    Coverage coverage = compare(LIBS.resolve("libssl.so.3"));
    // OpenSSL's TLS code is plain C: the decoder knows all of it
    assertThat(coverage.unknown).as(coverage.toString()).isEmpty();
    assertThat(coverage.functions).as(coverage.toString()).isGreaterThan(400);
  }

  @Test
  void agreesWithObjdumpOnLibcrypto() throws IOException {
    Coverage coverage = compare(LIBS.resolve("libcrypto.so.3"));
    // the assembler parts (AVX) stop the decoder; it must never give a wrong length before that
    assertThat(coverage.functions).as(coverage.toString()).isGreaterThan(4000);
    assertThat(coverage.unknown.size()).as(coverage.toString()).isLessThan(coverage.functions / 500);
  }

  private record Coverage(int functions, int instructions, List<String> unknown) {
    @Override
    public String toString() {
      return functions + " functions, " + instructions + " instructions, unknown at " + unknown.stream().limit(20).toList();
    }
  }

  /** Decodes each exported function of {@code file} and checks every boundary against objdump's. */
  private static Coverage compare(Path file) throws IOException {
    Peers.require("objdump");
    Peers.require("nm");
    Peers.require("readelf");
    String text = Peers.run(Duration.ofSeconds(30), "readelf", "-SW", file.toString()).assertSuccess().out();
    Matcher section = Pattern.compile("\\.text\\s+PROGBITS\\s+(\\p{XDigit}+)\\s+(\\p{XDigit}+)").matcher(text);
    assertThat(section.find()).as(text).isTrue();
    // this test reads code at its address: true where .text lies at its own address in the file
    assertThat(Long.parseLong(section.group(1), 16)).isEqualTo(Long.parseLong(section.group(2), 16));

    Set<Long> starts = new HashSet<>();
    var dump = Peers.run(Duration.ofSeconds(120), "objdump", "-d", "--no-show-raw-insn", "-j", ".text", file.toString())
        .assertSuccess();
    Matcher line = Pattern.compile("^\\s+(\\p{XDigit}+):\\t", Pattern.MULTILINE)
        .matcher(new String(dump.stdout(), StandardCharsets.ISO_8859_1));
    while (line.find()) {
      starts.add(Long.parseLong(line.group(1), 16));
    }
    assertThat(starts).hasSizeGreaterThan(1000);

    byte[] image = Files.readAllBytes(file);
    String symbols = Peers.run(Duration.ofSeconds(30), "nm", "-DS", "--defined-only", file.toString()).assertSuccess().out();
    Matcher function = Pattern.compile("^(\\p{XDigit}+) (\\p{XDigit}+) [Tt] (\\S+)", Pattern.MULTILINE).matcher(symbols);
    int functions = 0;
    int instructions = 0;
    List<String> unknown = new ArrayList<>();
    Set<Long> seen = new HashSet<>();
    while (function.find()) {
      long start = Long.parseLong(function.group(1), 16);
      int size = Integer.parseInt(function.group(2), 16);
      if (size == 0 || !seen.add(start)) {
        continue;
      }
      functions++;
      byte[] code = java.util.Arrays.copyOfRange(image, (int) start, (int) start + size);
      int at = 0;
      boolean known = true;
      while (at < size) {
        int length = X86Instructions.length(code, at);
        if (length == X86Instructions.UNKNOWN) {
          unknown.add(function.group(3) + "+0x" + Integer.toHexString(at));
          known = false;
          break;
        }
        if (!starts.contains(start + at)) {
          throw new AssertionError(String.format("%s+0x%x: objdump starts no instruction there", function.group(3), at));
        }
        instructions++;
        at += length;
      }
      if (known) {
        assertThat(at).as("%s: the last instruction ends where the function does", function.group(3)).isEqualTo(size);
      }
    }
    Coverage coverage = new Coverage(functions, instructions, unknown);
    System.out.println(file + ": " + coverage);
    return coverage;
  }
}
