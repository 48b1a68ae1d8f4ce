package dev.spanwire.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** libbpf's two error conventions become one exception; no kernel needed. */
class LibbpfErrorsTest {
  @Test
  void negativeReturnCodeBecomesBpfException() {
    assertThatThrownBy(() -> Libbpf.check("attach tracepoint/syscalls/sys_exit_read", -1))
        .isInstanceOfSatisfying(
            BpfException.class,
            e -> {
              assertThat(e.errno()).isEqualTo(1);
              assertThat(e.getMessage()).isEqualTo("attach tracepoint/syscalls/sys_exit_read: Operation not permitted");
              assertThat(e.verifierLog()).isEmpty();
            });
    assertThat(Libbpf.check("anything", 5)).isEqualTo(5);
  }

  @Test
  void libbpfOwnErrorCodesHaveText() {
    // LIBBPF_ERRNO__FORMAT: "Invalid ELF object format"-like text, not "errno 4003"
    assertThat(Libbpf.strerror(4003)).doesNotStartWith("errno").isNotBlank();
  }

  @Test
  void nullPointerResultUsesTheErrnoOfThatCall() throws Throwable {
    try (Arena arena = Arena.ofConfined()) {
      // opening garbage fails with NULL and errno set by that very call
      MemorySegment callState = Libbpf.callState(arena);
      callState.fill((byte) 0x7f); // a stale value the call must overwrite
      MemorySegment garbage = arena.allocateFrom("not an ELF object");
      MemorySegment result = (MemorySegment) Libbpf.BPF_OBJECT__OPEN_MEM.invokeExact(callState, garbage, garbage.byteSize(), MemorySegment.NULL);
      assertThatThrownBy(() -> Libbpf.checkPointer("open garbage", result, callState))
          .isInstanceOfSatisfying(BpfException.class, e -> {
            // LIBBPF_ERRNO__LIBELF (4001, what Debian's libbpf 1.x says here) or __FORMAT (4003, the
            // code other releases give a non-ELF object): codes only libbpf sets, never an errno left
            // over from an earlier libc call nor the stale 0x7f7f7f7f above.
            assertThat(e.errno()).isIn(4001, 4003);
            assertThat(e.operation()).isEqualTo("open garbage");
          });
    }
  }

  @Test
  void openingBadBytesFailsWithoutCrashing() {
    assertThatThrownBy(() -> BpfObject.open("junk.bpf.o", new byte[] {1, 2, 3}))
        .isInstanceOf(BpfException.class)
        .hasMessageStartingWith("open junk.bpf.o: ");
  }
}
