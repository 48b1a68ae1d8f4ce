#!/usr/bin/env bash
# Compile BPF objects with CO-RE relocations: compile.sh CLANG OUTDIR INCLUDEDIR FILE.bpf.c...
# The flags are the project's rule for kernel code: -O2 -g -Wall -Werror, BPF ISA v3.
set -euo pipefail
clang=$1 out=$2 include=$3
shift 3
command -v "$clang" >/dev/null || { echo "compile.sh: $clang not found (apt-get install clang libbpf-dev)" >&2; exit 1; }
[ -f /usr/include/bpf/bpf_helpers.h ] || { echo "compile.sh: libbpf headers not found (apt-get install libbpf-dev)" >&2; exit 1; }
case "$(uname -m)" in
  x86_64) arch=x86 ;;
  aarch64) arch=arm64 ;;
  *) echo "compile.sh: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
# DWARF and the relocations of the BTF sections are for debuggers, not for libbpf or the kernel:
# stripped (as libbpf-bootstrap does), the object is half the size to read from the jar and open at
# every start. BTF and BTF.ext stay (CO-RE and the verifier's line info need them).
strip=$(command -v "llvm-strip-${clang##*-}" llvm-strip 2>/dev/null | head -n 1 || true)
[ -n "$strip" ] || echo "compile.sh: llvm-strip not found (apt-get install llvm): the objects keep their debug info" >&2
mkdir -p "$out"
for src in "$@"; do
  obj="$out/$(basename "${src%.c}").o"
  "$clang" -target bpf -mcpu=v3 -O2 -g -Wall -Werror -D__TARGET_ARCH_$arch \
    ${BPF_DEBUG:+-DBPF_DEBUG} -I"$include" -c "$src" -o "$obj"
  [ -z "$strip" ] || "$strip" -g -R .rel.BTF -R .rel.BTF.ext "$obj"
done
