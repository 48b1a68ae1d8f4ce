package dev.spanwire.bpf;

/**
 * Lengths of x86-64 instructions, for finding where a uprobe is cheap: the general-purpose integer
 * instructions compilers emit in a library's C functions (legacy prefixes, REX, one-byte opcodes,
 * the 0F map with its SSE forms, 0F38 and 0F3A). Anything else (VEX, EVEX, 3DNow!, opcodes invalid
 * in 64-bit mode) is {@link #UNKNOWN}, and a caller that meets it gives up on the function rather
 * than guess: a wrong length would misread every instruction after it.
 */
final class X86Instructions {
  /** The length of an instruction this decoder does not know. */
  static final int UNKNOWN = -1;

  private X86Instructions() {}

  /** The length of the instruction at {@code at}, or {@link #UNKNOWN} (also when it runs past the end). */
  static int length(byte[] code, int at) {
    int i = at;
    boolean operand16 = false;
    boolean address32 = false;
    boolean rexW = false;
    int prefixes = 0;
    // legacy prefixes, then at most one REX right before the opcode
    while (i < code.length && prefixes < 14) {
      int b = code[i] & 0xff;
      if (b == 0x66) {
        operand16 = true;
      } else if (b == 0x67) {
        address32 = true;
      } else if (b != 0xf0 && b != 0xf2 && b != 0xf3 && b != 0x26 && b != 0x2e && b != 0x36 && b != 0x3e
          && b != 0x64 && b != 0x65) {
        break;
      }
      i++;
      prefixes++;
    }
    if (i < code.length && (code[i] & 0xf0) == 0x40) {
      rexW = (code[i] & 0x08) != 0;
      i++;
      if (i < code.length && (code[i] & 0xf0) == 0x40) {
        return UNKNOWN; // two REX prefixes: data, not code a compiler wrote
      }
    }
    if (i >= code.length) {
      return UNKNOWN;
    }
    int op = code[i++] & 0xff;
    int shape;
    if (op == 0x0f) {
      if (i >= code.length) {
        return UNKNOWN;
      }
      int op2 = code[i++] & 0xff;
      if (op2 == 0x38 || op2 == 0x3a) {
        if (i >= code.length) {
          return UNKNOWN;
        }
        i++; // the third opcode byte; 0F3A's all take an imm8
        shape = op2 == 0x38 ? M : M | I8;
      } else {
        shape = TWO_BYTE[op2];
      }
    } else {
      shape = ONE_BYTE[op];
    }
    if (shape == X) {
      return UNKNOWN;
    }
    boolean modrm = (shape & M) != 0;
    int immediate = immediate(shape, operand16, rexW);
    if (op >= 0xa0 && op <= 0xa3) {
      immediate = address32 ? 4 : 8; // a moffs address
    }
    if (modrm) {
      if (i >= code.length) {
        return UNKNOWN;
      }
      int m = code[i++] & 0xff;
      int mod = m >>> 6;
      int reg = (m >>> 3) & 7;
      int rm = m & 7;
      if ((op == 0xf6 || op == 0xf7) && reg > 1) {
        immediate = 0; // only test has an immediate in this group
      }
      if (mod != 3) {
        if (rm == 4) {
          if (i >= code.length) {
            return UNKNOWN;
          }
          int sib = code[i++] & 0xff;
          if (mod == 0 && (sib & 7) == 5) {
            i += 4;
          }
        } else if (mod == 0 && rm == 5) {
          i += 4; // rip-relative
        }
        if (mod == 1) {
          i += 1;
        } else if (mod == 2) {
          i += 4;
        }
      }
    }
    i += immediate;
    int length = i - at;
    return i <= code.length && length <= 15 ? length : UNKNOWN;
  }

  /** Whether the instruction at {@code at} is {@code call rel32}. */
  static boolean isCall(byte[] code, int at) {
    return at < code.length && (code[at] & 0xff) == 0xe8;
  }

  /** Whether the instruction at {@code at} is {@code jmp rel32} or {@code jmp rel8}. */
  static boolean isJump(byte[] code, int at) {
    return at < code.length && ((code[at] & 0xff) == 0xe9 || (code[at] & 0xff) == 0xeb);
  }

  /** Where a {@code call rel32}, {@code jmp rel32} or {@code jmp rel8} of {@code length} bytes at {@code at} goes, relative to {@code at}. */
  static long branchTarget(byte[] code, int at, int length) {
    long displacement = (code[at] & 0xff) == 0xeb ? code[at + 1]
        : (code[at + 1] & 0xff) | (code[at + 2] & 0xff) << 8 | (code[at + 3] & 0xff) << 16 | code[at + 4] << 24;
    return length + displacement;
  }

  /**
   * Whether the kernel runs the instruction at {@code at} itself when a uprobe there fires
   * ({@code arch/x86/kernel/uprobes.c} emulates {@code push reg}, with REX.B too, and relative
   * calls and jumps), instead of single-stepping a copy of it: a debug exception per hit.
   */
  static boolean emulatedByUprobes(byte[] code, int at) {
    if (at >= code.length) {
      return false;
    }
    int b = code[at] & 0xff;
    if (b >= 0x50 && b <= 0x57) {
      return true;
    }
    if (b == 0x41 && at + 1 < code.length) {
      int next = code[at + 1] & 0xff;
      return next >= 0x50 && next <= 0x57;
    }
    return b == 0xe8 || b == 0xe9 || b == 0xeb;
  }

  /**
   * Whether the instruction at {@code at} only opens a frame: {@code endbr64}, {@code push reg} or
   * {@code sub $imm, %rsp}. None of them touches an argument register.
   */
  static boolean opensFrame(byte[] code, int at, int length) {
    int b = code[at] & 0xff;
    if (length == 1 && b >= 0x50 && b <= 0x57) {
      return true;
    }
    if (length == 2 && b == 0x41) {
      int next = code[at + 1] & 0xff;
      return next >= 0x50 && next <= 0x57;
    }
    if (length == 4 && b == 0xf3) {
      return (code[at + 1] & 0xff) == 0x0f && (code[at + 2] & 0xff) == 0x1e && (code[at + 3] & 0xff) == 0xfa;
    }
    // 48 83 /5 ib and 48 81 /5 id with ModRM ec: sub $imm, %rsp
    return (length == 4 || length == 7) && b == 0x48 && ((code[at + 1] & 0xff) == 0x83 || (code[at + 1] & 0xff) == 0x81)
        && (code[at + 2] & 0xff) == 0xec;
  }

  private static int immediate(int shape, boolean operand16, boolean rexW) {
    return switch (shape & ~M) {
      case I8 -> 1;
      case I16 -> 2;
      case I16_8 -> 3;
      case IZ -> operand16 ? 2 : 4;
      case IV -> rexW ? 8 : operand16 ? 2 : 4;
      default -> 0;
    };
  }

  // shapes: a ModRM byte (M), then an immediate of this kind
  private static final int M = 0x100;
  private static final int X = 0x200;
  private static final int N = 0;
  private static final int I8 = 1;
  private static final int I16 = 2;
  private static final int I16_8 = 3;
  /** 32 bits, 16 with the operand-size prefix. */
  private static final int IZ = 4;
  /** 64 bits with REX.W (mov r64, imm64), else as IZ. */
  private static final int IV = 5;

  private static final int[] ONE_BYTE = new int[256];
  private static final int[] TWO_BYTE = new int[256];

  static {
    // the eight arithmetic groups: op r/m,r (00-03), op al,imm8 (04), op eax,imm32 (05)
    for (int base = 0x00; base <= 0x38; base += 0x08) {
      for (int k = 0; k < 4; k++) {
        ONE_BYTE[base + k] = M;
      }
      ONE_BYTE[base + 4] = I8;
      ONE_BYTE[base + 5] = IZ;
      ONE_BYTE[base + 6] = X; // push/pop segment, daa, das, aaa, aas, and the prefixes 26 2e 36 3e
      ONE_BYTE[base + 7] = X;
    }
    for (int op = 0x40; op <= 0x5f; op++) {
      ONE_BYTE[op] = N; // REX (consumed earlier), push, pop
    }
    ONE_BYTE[0x60] = X;
    ONE_BYTE[0x61] = X;
    ONE_BYTE[0x62] = X; // EVEX
    ONE_BYTE[0x63] = M; // movsxd
    ONE_BYTE[0x64] = X;
    ONE_BYTE[0x65] = X;
    ONE_BYTE[0x66] = X;
    ONE_BYTE[0x67] = X;
    ONE_BYTE[0x68] = IZ;
    ONE_BYTE[0x69] = M | IZ;
    ONE_BYTE[0x6a] = I8;
    ONE_BYTE[0x6b] = M | I8;
    for (int op = 0x6c; op <= 0x6f; op++) {
      ONE_BYTE[op] = X; // ins, outs: port I/O, never in a library's code (text read as code)
    }
    for (int op = 0x70; op <= 0x7f; op++) {
      ONE_BYTE[op] = I8; // jcc rel8
    }
    ONE_BYTE[0x80] = M | I8;
    ONE_BYTE[0x81] = M | IZ;
    ONE_BYTE[0x82] = X;
    ONE_BYTE[0x83] = M | I8;
    for (int op = 0x84; op <= 0x8f; op++) {
      ONE_BYTE[op] = M;
    }
    for (int op = 0x90; op <= 0x9f; op++) {
      ONE_BYTE[op] = N;
    }
    ONE_BYTE[0x9a] = X;
    for (int op = 0xa0; op <= 0xa7; op++) {
      ONE_BYTE[op] = N; // moffs forms get their address in length()
    }
    ONE_BYTE[0xa8] = I8;
    ONE_BYTE[0xa9] = IZ;
    for (int op = 0xaa; op <= 0xaf; op++) {
      ONE_BYTE[op] = N;
    }
    for (int op = 0xb0; op <= 0xb7; op++) {
      ONE_BYTE[op] = I8;
    }
    for (int op = 0xb8; op <= 0xbf; op++) {
      ONE_BYTE[op] = IV;
    }
    ONE_BYTE[0xc0] = M | I8;
    ONE_BYTE[0xc1] = M | I8;
    ONE_BYTE[0xc2] = I16;
    ONE_BYTE[0xc3] = N;
    ONE_BYTE[0xc4] = X; // VEX
    ONE_BYTE[0xc5] = X;
    ONE_BYTE[0xc6] = M | I8;
    ONE_BYTE[0xc7] = M | IZ;
    ONE_BYTE[0xc8] = I16_8;
    ONE_BYTE[0xc9] = N;
    ONE_BYTE[0xca] = I16;
    ONE_BYTE[0xcb] = N;
    ONE_BYTE[0xcc] = N;
    ONE_BYTE[0xcd] = I8;
    ONE_BYTE[0xce] = X;
    ONE_BYTE[0xcf] = N;
    for (int op = 0xd0; op <= 0xd3; op++) {
      ONE_BYTE[op] = M;
    }
    ONE_BYTE[0xd4] = X;
    ONE_BYTE[0xd5] = X;
    ONE_BYTE[0xd6] = X;
    ONE_BYTE[0xd7] = N;
    for (int op = 0xd8; op <= 0xdf; op++) {
      ONE_BYTE[op] = M; // x87
    }
    for (int op = 0xe0; op <= 0xe3; op++) {
      ONE_BYTE[op] = I8; // loop, jrcxz
    }
    for (int op = 0xe4; op <= 0xe7; op++) {
      ONE_BYTE[op] = X; // in, out
    }
    ONE_BYTE[0xe8] = IZ; // call rel32
    ONE_BYTE[0xe9] = IZ; // jmp rel32
    ONE_BYTE[0xea] = X;
    ONE_BYTE[0xeb] = I8;
    for (int op = 0xec; op <= 0xef; op++) {
      ONE_BYTE[op] = X; // in, out
    }
    ONE_BYTE[0xf0] = X;
    ONE_BYTE[0xf1] = N;
    ONE_BYTE[0xf2] = X;
    ONE_BYTE[0xf3] = X;
    ONE_BYTE[0xf4] = N;
    ONE_BYTE[0xf5] = N;
    ONE_BYTE[0xf6] = M | I8; // test has an imm8; not/neg/mul/div none (length() knows)
    ONE_BYTE[0xf7] = M | IZ;
    for (int op = 0xf8; op <= 0xfd; op++) {
      ONE_BYTE[op] = N;
    }
    ONE_BYTE[0xfe] = M;
    ONE_BYTE[0xff] = M;

    // the 0F map: what compilers emit for integer code and SSE, the rest unknown
    java.util.Arrays.fill(TWO_BYTE, X);
    TWO_BYTE[0x05] = N; // syscall
    TWO_BYTE[0x0b] = N; // ud2
    TWO_BYTE[0x0d] = M; // prefetchw
    for (int op = 0x10; op <= 0x17; op++) {
      TWO_BYTE[op] = M;
    }
    for (int op = 0x18; op <= 0x1f; op++) {
      TWO_BYTE[op] = M; // prefetch, hint nops, endbr64 (f3 0f 1e fa)
    }
    for (int op = 0x28; op <= 0x2f; op++) {
      TWO_BYTE[op] = M;
    }
    TWO_BYTE[0x31] = N; // rdtsc
    TWO_BYTE[0xa2] = N; // cpuid
    for (int op = 0x40; op <= 0x4f; op++) {
      TWO_BYTE[op] = M; // cmovcc
    }
    for (int op = 0x50; op <= 0x6f; op++) {
      TWO_BYTE[op] = M;
    }
    for (int op = 0x70; op <= 0x73; op++) {
      TWO_BYTE[op] = M | I8; // pshuf*, shift by immediate
    }
    for (int op = 0x74; op <= 0x76; op++) {
      TWO_BYTE[op] = M;
    }
    TWO_BYTE[0x77] = N; // emms
    for (int op = 0x7c; op <= 0x7f; op++) {
      TWO_BYTE[op] = M; // haddp*, movd, movq
    }
    for (int op = 0x80; op <= 0x8f; op++) {
      TWO_BYTE[op] = IZ; // jcc rel32
    }
    for (int op = 0x90; op <= 0x9f; op++) {
      TWO_BYTE[op] = M; // setcc
    }
    TWO_BYTE[0xa3] = M; // bt
    TWO_BYTE[0xa4] = M | I8; // shld imm
    TWO_BYTE[0xa5] = M;
    TWO_BYTE[0xab] = M; // bts
    TWO_BYTE[0xac] = M | I8; // shrd imm
    TWO_BYTE[0xad] = M;
    TWO_BYTE[0xae] = M; // fences, fxsave, ...
    TWO_BYTE[0xaf] = M; // imul
    TWO_BYTE[0xb0] = M; // cmpxchg
    TWO_BYTE[0xb1] = M;
    TWO_BYTE[0xb3] = M; // btr
    TWO_BYTE[0xb6] = M; // movzx
    TWO_BYTE[0xb7] = M;
    TWO_BYTE[0xb8] = M; // popcnt (f3)
    TWO_BYTE[0xba] = M | I8; // bt* imm
    TWO_BYTE[0xbb] = M; // btc
    TWO_BYTE[0xbc] = M; // bsf, tzcnt
    TWO_BYTE[0xbd] = M; // bsr, lzcnt
    TWO_BYTE[0xbe] = M; // movsx
    TWO_BYTE[0xbf] = M;
    TWO_BYTE[0xc0] = M; // xadd
    TWO_BYTE[0xc1] = M;
    TWO_BYTE[0xc2] = M | I8; // cmpps
    TWO_BYTE[0xc3] = M; // movnti
    TWO_BYTE[0xc4] = M | I8; // pinsrw
    TWO_BYTE[0xc5] = M | I8; // pextrw
    TWO_BYTE[0xc6] = M | I8; // shufps
    TWO_BYTE[0xc7] = M; // cmpxchg16b, rdrand
    for (int op = 0xc8; op <= 0xcf; op++) {
      TWO_BYTE[op] = N; // bswap
    }
    for (int op = 0xd0; op <= 0xfe; op++) {
      TWO_BYTE[op] = M; // SSE2 integer
    }
  }
}
