package dev.spanwire.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spanwire.bpf.testing.Await;
import dev.spanwire.bpf.testing.EventRecorder;
import dev.spanwire.bpf.testing.KernelTest;
import dev.spanwire.bpf.testing.Peers;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The kernel's stash of syscall arguments: freed with its threads, and counted when full. */
@KernelTest
class StashKernelTest {
  /** The stash serves the syscall backend only: the socket one reads arguments from registers. */
  private static final CaptureConfig SYSCALL = CaptureConfig.defaults().withBackend(CaptureBackend.SYSCALL);

  @Test
  void threadsThatExitLeaveNothingStashed() throws Exception {
    try (SocketCapture capture = SocketCapture.start(SYSCALL, new EventRecorder())) {
      // 50 threads read and write a pipe once each and exit; the process lives on
      Process python = Peers.start(List.of(Peers.python(), "-u", "-c", """
          import os, sys, threading
          def work():
              r, w = os.pipe()
              os.write(w, b"x")
              os.read(r, 1)
              os.close(r); os.close(w)
          threads = [threading.Thread(target=work) for _ in range(50)]
          for t in threads: t.start()
          for t in threads: t.join()
          print("done", flush=True)
          sys.stdin.read()
          """));
      try (BufferedReader out = new BufferedReader(new InputStreamReader(python.getInputStream(), StandardCharsets.UTF_8))) {
        assertThat(out.readLine()).isEqualTo("done");
        int pid = (int) python.pid();
        // the main thread may keep its own entries (it reads stdin now); the 50 workers' are gone
        Await.until("the workers' stash entries to go", Duration.ofSeconds(10), () -> capture.stashedThreads(pid) <= 2,
            () -> "(have " + capture.stashedThreads(pid) + ")");
      } finally {
        python.destroyForcibly().waitFor();
      }
    }
  }

  @Test
  void syscallsThatFindTheStashFullAreCounted() {
    // room for one thread's arguments on the whole host: nearly every other syscall finds it full
    try (SocketCapture capture = SocketCapture.start(SYSCALL.withStashEntries(1), new EventRecorder())) {
      Peers.run(Duration.ofSeconds(30), Peers.python(), "-c", """
          import os, threading
          def work():
              r, w = os.pipe()
              for _ in range(100):
                  os.write(w, b"x"); os.read(r, 1)
          ts = [threading.Thread(target=work) for _ in range(4)]
          [t.start() for t in ts]; [t.join() for t in ts]
          """).assertSuccess();
      Await.until("a full stash to be counted", Duration.ofSeconds(10), () -> capture.stats().stashFull() > 0);
      assertThat(capture.stats().stashFull()).isGreaterThanOrEqualTo(300);
    }
  }

  @Test
  void entriesOfProcessesThatAreGoneAreSwept(@org.junit.jupiter.api.io.TempDir java.nio.file.Path www) throws Exception {
    try (SocketCapture capture = SocketCapture.start(SYSCALL, new EventRecorder());
        Peers.Server server = Peers.pythonHttpServer(www, "127.0.0.1")) {
      // connect, then exit without close(): the exit closes the fd, and nothing the capture sees
      Peers.Completed python = Peers.run(Duration.ofSeconds(30), Peers.python(), "-c", """
          import os, socket
          s = socket.create_connection(("127.0.0.1", %d))
          print(s.fileno(), flush=True)
          os._exit(0)
          """.formatted(server.port())).assertSuccess();
      int pid = (int) python.pid();
      int fd = Integer.parseInt(python.out().strip());
      assertThat(capture.hasEntry(pid, fd)).as("left by the exit").isTrue();
      int swept = capture.sweepExitedProcesses(p -> java.nio.file.Files.exists(java.nio.file.Path.of("/proc/" + p)));
      assertThat(swept).isGreaterThanOrEqualTo(1);
      assertThat(capture.hasEntry(pid, fd)).isFalse();
    }
  }
}
