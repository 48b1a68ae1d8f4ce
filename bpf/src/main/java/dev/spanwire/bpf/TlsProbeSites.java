package dev.spanwire.bpf;

import dev.spanwire.bpf.ElfSymbols.Function;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where a TLS library's read and write calls are hooked. A uprobe costs a breakpoint trap per hit,
 * and a second one (a debug exception after single-stepping a copy of the instruction) unless the
 * kernel can emulate the probed instruction; a return probe sits at the function's entry too. In
 * Debian's OpenSSL 3 {@code SSL_read} opens with {@code sub $0x18,%rsp}, which is single-stepped:
 * measured here, the debug exceptions took a third of the machine's CPU under HTTPS load.
 *
 * <p>OpenSSL's {@code SSL_read} and {@code SSL_read_ex} both call one internal function with
 * {@code SSL_read_ex}'s arguments ({@code ssl_read_internal(s, buf, num, &count)}), and so do the
 * write calls; that function opens with {@code push}, which the kernel emulates. It is hooked
 * instead, once for both calls, when the code proves it: {@code SSL_read_ex} only opens a frame
 * (touching no argument register) and then calls or jumps to it, the callee's first instruction is
 * emulated, and {@code SSL_read} calls it directly too (so no call is seen twice or missed).
 * Anything else, including code this decoder does not know, keeps the probes on the exported
 * functions, as before.
 */
final class TlsProbeSites {
  /** Reads a file's bytes; fewer at its end. */
  interface Code {
    byte[] read(long offset, int length) throws IOException;
  }

  /** A probe pair: the entry and return programs, attached at {@code offset}, labelled {@code function}. */
  record Site(String function, long offset, String entryProgram, String returnProgram) {
    @Override
    public String toString() {
      return function + " at 0x" + Long.toHexString(offset);
    }
  }

  /** One direction's plain and {@code _ex} functions and the return program both run. */
  private record Calls(String plain, String ex, String returnProgram) {}

  private static final List<Calls> CALLS = List.of(
      new Calls("SSL_write", "SSL_write_ex", "handle_ssl_write_ret"), new Calls("SSL_read", "SSL_read_ex", "handle_ssl_read_ret"));
  /** The entry programs: the count returned (SSL_read), or written through the fourth argument (SSL_read_ex). */
  static final String ENTRY = "handle_ssl_call";
  static final String ENTRY_EX = "handle_ssl_call_ex";

  /** The functions looked up in a file. */
  static final java.util.Set<String> FUNCTIONS =
      CALLS.stream().flatMap(c -> java.util.stream.Stream.of(c.plain(), c.ex())).collect(java.util.stream.Collectors.toUnmodifiableSet());

  /** How far into a wrapper its call may lie, and how much of a function is decoded. */
  private static final int WRAPPER_BYTES = 64;
  private static final int MAX_FUNCTION_BYTES = 4096;
  private static final int HEAD_BYTES = 16;

  private TlsProbeSites() {}

  /** The probe sites for the functions {@code defined} in a file whose bytes {@code code} reads. */
  static List<Site> choose(Map<String, Function> defined, Code code) throws IOException {
    List<Site> sites = new ArrayList<>();
    for (Calls calls : CALLS) {
      Function plain = defined.get(calls.plain());
      Function ex = defined.get(calls.ex());
      Long shared = plain == null || ex == null ? null : sharedCallee(plain, ex, code);
      if (shared != null) {
        sites.add(new Site(calls.ex() + "'s callee", shared, ENTRY_EX, calls.returnProgram()));
        continue;
      }
      if (plain != null) {
        sites.add(new Site(calls.plain(), plain.offset(), ENTRY, calls.returnProgram()));
      }
      if (ex != null) {
        sites.add(new Site(calls.ex(), ex.offset(), ENTRY_EX, calls.returnProgram()));
      }
    }
    return sites;
  }

  /**
   * The file offset of the function both {@code plain} and {@code ex} hand their calls to, when
   * hooking it saves a single-step and the code shows it is safe; null otherwise.
   */
  private static Long sharedCallee(Function plain, Function ex, Code code) throws IOException {
    byte[] wrapper = code.read(ex.offset(), WRAPPER_BYTES);
    if (X86Instructions.emulatedByUprobes(wrapper, 0)) {
      return null; // the entry is cheap already
    }
    Long callee = wrapped(ex, wrapper);
    if (callee == null || !X86Instructions.emulatedByUprobes(code.read(callee, HEAD_BYTES), 0)) {
      return null;
    }
    if (plain.size() <= 0 || plain.size() > MAX_FUNCTION_BYTES) {
      return null;
    }
    return reaches(plain, code.read(plain.offset(), (int) plain.size()), callee) ? callee : null;
  }

  /** Where {@code ex} calls or jumps after opening its frame and nothing else; null when it does more. */
  private static Long wrapped(Function ex, byte[] code) {
    for (int at = 0; at < code.length; ) {
      int length = X86Instructions.length(code, at);
      if (length == X86Instructions.UNKNOWN) {
        return null;
      }
      if (X86Instructions.isCall(code, at) || X86Instructions.isJump(code, at)) {
        long target = ex.offset() + at + X86Instructions.branchTarget(code, at, length);
        return ex.sectionHolds(target) ? target : null;
      }
      if (!X86Instructions.opensFrame(code, at, length)) {
        return null;
      }
      at += length;
    }
    return null;
  }

  /** Whether {@code function} (its whole {@code code}) calls or jumps to {@code target} directly. */
  private static boolean reaches(Function function, byte[] code, long target) {
    for (int at = 0; at < code.length; ) {
      int length = X86Instructions.length(code, at);
      if (length == X86Instructions.UNKNOWN) {
        return false;
      }
      if ((X86Instructions.isCall(code, at) || X86Instructions.isJump(code, at))
          && function.offset() + at + X86Instructions.branchTarget(code, at, length) == target) {
        return true;
      }
      at += length;
    }
    return false;
  }
}
