#!/usr/bin/env bash
# What one uprobe hit costs on this host, apart from any program: a loop of calls to a tiny
# function without a probe, with a uprobe on it, with a uprobe and a uretprobe (as the TLS probes
# are), and with a uprobe on a 5-byte nop (which kernels 6.18 and later turn into a call of the
# uprobe trampoline, a syscall, instead of an int3 trap). Probes are tracefs uprobe events with
# no program attached, so the figures are the kernel's and the hardware's (or the hypervisor's)
# alone. HTTPS through a hooked TLS library pays one entry and one return per SSL_read or
# SSL_write call; `bench/load.sh --tls` makes four such calls per request (wrk's two, nginx's two).
#
#   bench/uprobe-cost.sh [CALLS]   (as root; default 50,000 calls per measurement)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/lib.sh"
calls=${1:-50000}
[[ $calls =~ ^[0-9]+$ ]] && [ "$calls" -gt 0 ] || die "CALLS must be a positive number, got $calls"
[ "$(id -u)" -eq 0 ] || die "uprobes need root"
ensure_packages $SPANWIRE_BUILD_PACKAGES
tracing=/sys/kernel/tracing
[ -e "$tracing/uprobe_events" ] || mount -t tracefs nodev "$tracing" 2>/dev/null || true
[ -e "$tracing/uprobe_events" ] || die "no tracefs with uprobe_events at $tracing"

work=$(mktemp -d)
group=spanwire_cost_$$
cleanup() {
  for event in plain ret nop5; do
    echo 0 >"$tracing/events/$group/$event/enable" 2>/dev/null || true
    echo "-:$group/$event" >>"$tracing/uprobe_events" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
clang -O2 -o "$work/calls" "$root/bench/uprobe-cost/calls.c"

# a symbol's offset in the file, as uprobe_events wants it: its address less its section's
# address, plus the section's offset
offset() {
  local address section_address section_offset
  address=$(nm "$work/calls" | awk -v s="$1" '$3 == s {print $1}')
  read -r section_address section_offset < <(readelf -SW "$work/calls" |
    awk '$2 == ".text" {print $4, $5} $3 == ".text" {print $5, $6}')
  printf '0x%x' $((0x$address - 0x$section_address + 0x$section_offset))
}
plain=$(offset plain)
nop5=$(offset nop5)
echo "p:$group/plain $work/calls:$plain" >>"$tracing/uprobe_events"
echo "r:$group/ret $work/calls:$plain" >>"$tracing/uprobe_events"
echo "p:$group/nop5 $work/calls:$nop5" >>"$tracing/uprobe_events"

# the median of five runs, in nanoseconds per call
measure() {
  local function=$1
  shift
  for event in "$@"; do echo 1 >"$tracing/events/$group/$event/enable"; done
  for _ in 1 2 3 4 5; do "$work/calls" "$calls" "$function"; done | sort -n | sed -n 3p
  for event in "$@"; do echo 0 >"$tracing/events/$group/$event/enable"; done
}
# the events count hits in the trace buffer; tracing off keeps the buffer's writes out
was_on=$(cat "$tracing/tracing_on")
echo 0 >"$tracing/tracing_on"
bare=$(measure plain)
entry=$(measure plain plain)
both=$(measure plain plain ret)
bare_nop5=$(measure nop5)
on_nop5=$(measure nop5 nop5)
echo "$was_on" >"$tracing/tracing_on"

echo "uprobe cost on $(uname -r), $(nproc) cores, $calls calls per run, median of 5 runs"
printf '  no probe                 %8d ns per call\n' "$bare"
printf '  uprobe (int3)            %8d ns per hit\n' $((entry - bare))
printf '  uprobe + uretprobe       %8d ns per call (what each hooked SSL_read/SSL_write pays)\n' $((both - bare))
printf '  uprobe on a 5-byte nop   %8d ns per hit%s\n' $((on_nop5 - bare_nop5)) \
  "$(grep -q ' __x64_sys_uprobe$' /proc/kallsyms && echo ' (optimised: the uprobe syscall)' || echo ' (this kernel traps there too)')"
printf '  HTTPS, 4 calls a request %8d ns per request (bench/load.sh --tls)\n' $((4 * (both - bare)))
