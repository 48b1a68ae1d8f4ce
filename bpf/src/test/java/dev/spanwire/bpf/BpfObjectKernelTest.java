package dev.spanwire.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spanwire.bpf.testing.KernelTest;
import org.junit.jupiter.api.Test;

/** Loading objects the kernel refuses. */
@KernelTest
class BpfObjectKernelTest {
  @Test
  void refusedLoadCarriesTheVerifierLog() {
    try (BpfObject object = BpfObject.openResource(BpfObjectKernelTest.class, "rejected.bpf.o")) {
      assertThatThrownBy(object::load)
          .isInstanceOfSatisfying(
              BpfException.class,
              e -> {
                assertThat(e.operation()).isEqualTo("load rejected.bpf.o");
                assertThat(e.errno()).isEqualTo(13); // EACCES: the verifier said no
                assertThat(e.summary()).isEqualTo("load rejected.bpf.o: Permission denied");
                assertThat(e.verifierLog()).hasValueSatisfying(log -> {
                  assertThat(log).contains("prog 'count_getpid'");
                  assertThat(log).contains("invalid mem access 'map_value_or_null'");
                });
              });
      assertThat(object.isLoaded()).isFalse();
    }
  }

  @Test
  void objectClosesTwiceAndRefusesUseAfterClose() {
    BpfObject object = BpfObject.openResource(BpfObjectKernelTest.class, "rejected.bpf.o");
    object.close();
    object.close();
    assertThatThrownBy(object::programs).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
  }

  @Test
  void attachingToAMissingTracepointNamesIt() {
    try (BpfObject object = BpfObject.openResource(BpfObjectKernelTest.class, "missing_tracepoint.bpf.o")) {
      object.load();
      assertThatThrownBy(() -> object.program("handle_no_such_call").attach())
          .isInstanceOfSatisfying(
              BpfException.class,
              e -> {
                assertThat(e.errno()).isEqualTo(2);
                assertThat(e.getMessage())
                    .isEqualTo("attach tracepoint/syscalls/sys_enter_no_such_call: No such file or directory");
              });
    }
  }

  @Test
  void captureAttachesEveryTracepointAndClosesTwice() {
    try (SocketCapture capture = SocketCapture.start(CaptureConfig.defaults(), event -> {})) {
      assertThat(capture.attachments()).hasSize(SocketCapture.tracepoints().size());
      assertThat(capture.attachments()).contains("tracepoint/syscalls/sys_exit_read", "tracepoint/syscalls/sys_enter_close");
      capture.close();
      capture.close();
    }
  }
}
