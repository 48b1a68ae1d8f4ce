package dev.spanwire.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.TlsLibraries.ExecutableMapping;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExecutableMappingTest {

  @Test
  void readsTheDeviceInodeAndPathOfAnExecutableFileMapping() {
    assertThat(ExecutableMapping.parse(
        "7f2454a70000-7f2454ad3000 r-xp 00001000 fe:00 16039949                   /usr/lib/x86_64-linux-gnu/libssl.so.3"))
        .isEqualTo(new ExecutableMapping("fe:00:16039949", "/usr/lib/x86_64-linux-gnu/libssl.so.3"));
    // a path with spaces keeps them; a tab between the fields is whitespace as well
    assertThat(ExecutableMapping.parse("00400000-00452000 r-xp 00000000 08:02 173521\t/opt/my app/bin/node  x"))
        .isEqualTo(new ExecutableMapping("08:02:173521", "/opt/my app/bin/node  x"));
  }

  @Test
  void skipsWhatIsNotAnExistingFilesExecutablePages() {
    for (String line : List.of(
        "7f2454a70000-7f2454ad3000 r--p 00000000 fe:00 16039949                   /usr/lib/x86_64-linux-gnu/libssl.so.3",
        "7f2454a70000-7f2454ad3000 rw-p 0135c000 fe:00 16039949                   /usr/lib/x86_64-linux-gnu/libssl.so.3",
        "7ffd1a5f2000-7ffd1a5f4000 r-xp 00000000 00:00 0                          [vdso]",
        "7f24550e1000-7f24550e5000 rwxp 00000000 00:00 0 ",
        "7f24550e1000-7f24550e5000 r-xp 00000000 00:00 0",
        "7f24550e1000-7f24550e5000 r-xp 00000000 fe:00 123 /usr/lib/libssl.so.3 (deleted)",
        "7f24550e1000-7f24550e5000 r-xp",
        "")) {
      assertThat(ExecutableMapping.parse(line)).as(line).isNull();
    }
  }

  @Test
  void agreesWithASplitOfEveryLineOfThisProcesssMaps() throws IOException {
    List<String> lines = Files.readAllLines(Path.of("/proc/self/maps"));
    int executable = 0;
    for (String line : lines) {
      String[] fields = line.split("\\s+", 6);
      boolean wanted = fields.length == 6 && fields[1].contains("x") && fields[5].startsWith("/")
          && !fields[5].endsWith(" (deleted)");
      ExecutableMapping expected = wanted ? new ExecutableMapping(fields[3] + ":" + fields[4], fields[5]) : null;
      assertThat(ExecutableMapping.parse(line)).as(line).isEqualTo(expected);
      executable += wanted ? 1 : 0;
    }
    assertThat(executable).as("a JVM maps executable files (java, libjvm.so, libc)").isGreaterThanOrEqualTo(3);
  }
}
