package dev.spanwire.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Routes libbpf's own log to the {@code dev.spanwire.bpf.libbpf} logger: warnings as WARNING,
 * info and debug as DEBUG/TRACE. While a thread runs inside {@link #capture}, the lines libbpf
 * prints on that thread are also collected, so a failed load can name the program that failed.
 *
 * <p>The callback is installed once for the JVM (libbpf's print function is process-global), with
 * its upcall stub in the global arena.
 */
final class LibbpfLog {
  private static final System.Logger LOG = System.getLogger("dev.spanwire.bpf.libbpf");
  private static final int LIBBPF_WARN = 0;
  private static final int LIBBPF_INFO = 1;
  private static final int LINE_MAX = 2048;
  private static final ThreadLocal<StringBuilder> CAPTURE = new ThreadLocal<>();
  private static final AtomicLong CALLBACK_FAILURES = new AtomicLong();

  static {
    try {
      MemorySegment stub =
          java.lang.foreign.Linker.nativeLinker()
              .upcallStub(
                  MethodHandles.lookup()
                      .findStatic(
                          LibbpfLog.class,
                          "print",
                          MethodType.methodType(
                              int.class, int.class, MemorySegment.class, MemorySegment.class)),
                  Libbpf.PRINT_FN,
                  Arena.global());
      MemorySegment previous = (MemorySegment) Libbpf.LIBBPF_SET_PRINT.invokeExact(stub);
      assert previous != null;
    } catch (Throwable t) {
      throw Ffm.rethrow(t);
    }
  }

  private LibbpfLog() {}

  /** Installs the callback (idempotent; the class initialiser does the work). */
  static void install() {}

  /** Callbacks that failed inside Java and were swallowed. */
  static long callbackFailures() {
    return CALLBACK_FAILURES.get();
  }

  /** Runs {@code action}, collecting what libbpf prints on this thread meanwhile into {@code sink}. */
  static <T> T capture(StringBuilder sink, java.util.function.Supplier<T> action) {
    StringBuilder outer = CAPTURE.get();
    CAPTURE.set(sink);
    try {
      return action.get();
    } finally {
      CAPTURE.set(outer);
    }
  }

  /** The upcall: {@code int print(enum libbpf_print_level, const char *fmt, va_list args)}. */
  private static int print(int level, MemorySegment format, MemorySegment args) {
    // nothing may escape into C: an exception here would bring the JVM down
    try {
      StringBuilder sink = CAPTURE.get();
      System.Logger.Level target =
          switch (level) {
            case LIBBPF_WARN -> System.Logger.Level.WARNING;
            case LIBBPF_INFO -> System.Logger.Level.DEBUG;
            default -> System.Logger.Level.TRACE;
          };
      boolean collected = sink != null && level <= LIBBPF_INFO;
      boolean logged = LOG.isLoggable(target);
      // libbpf prints a debug line per section, program and relocation while it opens an object:
      // thousands of calls a start, formatted only when someone reads them. The formatting is a
      // method of its own: inlined here, it made this upcall's C1 compile 4.7-6.5 MB in each start,
      // stopped at the JIT's memory limit in some (the calls then ran interpreted)
      if (collected || logged) {
        emit(format, args, collected ? sink : null, logged ? target : null);
      }
    } catch (Throwable t) {
      CALLBACK_FAILURES.incrementAndGet();
    }
    return 0;
  }

  /** Formats libbpf's line and hands it to {@code sink} and to the logger at {@code level}, each when not null. */
  private static void emit(MemorySegment format, MemorySegment args, StringBuilder sink, System.Logger.Level level)
      throws Throwable {
    String text;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment line = arena.allocate(LINE_MAX);
      int n = (int) Libbpf.Text.VSNPRINTF.invokeExact(line, (long) LINE_MAX, format, args);
      if (n < 0) {
        return;
      }
      text = line.getString(0).stripTrailing();
    }
    if (sink != null) {
      sink.append(text).append('\n');
    }
    if (level != null) {
      LOG.log(level, text);
    }
  }
}
