#!/usr/bin/env bash
# What one uprobe hit costs on this host, apart from any program: a loop of calls to tiny functions
# without a probe and with tracefs uprobe events (no program attached) on their first instruction,
# so the figures are the kernel's and the hardware's (or the hypervisor's) alone. x86-64 handles a
# probed instruction one of three ways, measured each: emulated after the int3 trap (a push: where
# the TLS probes sit, see TlsProbeSites), single-stepped out of line (a second trap, the debug
# exception), or, on a 5-byte nop and kernels 6.18 and later, a call of the uprobe syscall instead
# of any trap. A hooked SSL_read or SSL_write pays an emulated entry and a return (the uretprobe);
# `bench/load.sh --tls` makes four such calls per request (wrk's two, nginx's two).
#
#   bench/uprobe-cost.sh [CALLS]   (as root; default 50,000 calls per measurement)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/lib.sh"
calls=${1:-50000}
[[ $calls =~ ^[0-9]+$ ]] && [ "$calls" -gt 0 ] || die "CALLS must be a positive number, got $calls"
[ "$(id -u)" -eq 0 ] || die "uprobes need root"
ensure_packages $SPANWIRE_BUILD_PACKAGES binutils # clang, and nm and readelf
tracing=/sys/kernel/tracing
[ -e "$tracing/uprobe_events" ] || mount -t tracefs nodev "$tracing" 2>/dev/null || true
[ -e "$tracing/uprobe_events" ] || die "no tracefs with uprobe_events at $tracing"

work=$(mktemp -d)
group=spanwire_cost_$$
events="pushed pushed_return stepped nop5"
cleanup() {
  for event in $events; do
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
echo "p:$group/pushed $work/calls:$(offset pushed)" >>"$tracing/uprobe_events"
echo "r:$group/pushed_return $work/calls:$(offset pushed)" >>"$tracing/uprobe_events"
echo "p:$group/stepped $work/calls:$(offset stepped)" >>"$tracing/uprobe_events"
echo "p:$group/nop5 $work/calls:$(offset nop5)" >>"$tracing/uprobe_events"

# the median of five runs of function $1 with events $2... enabled, in nanoseconds per call
measure() {
  local function=$1
  shift
  for event in "$@"; do echo 1 >"$tracing/events/$group/$event/enable"; done
  for _ in 1 2 3 4 5; do "$work/calls" "$calls" "$function"; done | sort -n | sed -n 3p
  for event in "$@"; do echo 0 >"$tracing/events/$group/$event/enable"; done
}
# the events would write each hit to the trace buffer; tracing off keeps that out
was_on=$(cat "$tracing/tracing_on")
echo 0 >"$tracing/tracing_on"
bare=$(measure pushed)
pushed=$(measure pushed pushed)
returned=$(measure pushed pushed pushed_return)
stepped=$(measure stepped stepped)
bare_nop5=$(measure nop5)
nop5=$(measure nop5 nop5)
echo "$was_on" >"$tracing/tracing_on"

echo "uprobe cost on $(uname -r), $(nproc) cores, $calls calls per run, median of 5 runs"
printf '  no probe                      %8d ns per call\n' "$bare"
printf '  uprobe, emulated (a push)     %8d ns per hit\n' $((pushed - bare))
printf '  uprobe + uretprobe, emulated  %8d ns per call (each hooked SSL_read or SSL_write)\n' $((returned - bare))
printf '  uprobe, single-stepped        %8d ns per hit\n' $((stepped - bare))
printf '  uprobe on a 5-byte nop        %8d ns per hit%s\n' $((nop5 - bare_nop5)) \
  "$(grep -q ' __x64_sys_uprobe$' /proc/kallsyms && echo ' (the uprobe syscall, no trap)' || echo ' (this kernel traps there too)')"
printf '  HTTPS, 4 calls a request      %8d ns per request (bench/load.sh --tls)\n' $((4 * (returned - bare)))
