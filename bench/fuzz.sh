#!/usr/bin/env bash
# The fuzz targets, longer than the short run every build makes (jqwik, 2,000 tries each there):
# the ring-buffer record decoder, the whole per-connection pipeline (HTTP/1 parser and pairing,
# HTTP/2 frames, HPACK, streams) on mutants of recorded conversations, the HPACK decoder on
# mutants of hpack-test-case, the configuration loader. Prints tries and time per target; a
# failure prints jqwik's shrunk sample: keep it under
# exporter/src/test/resources/fuzz-regressions/ (pipeline cases as NAME.req and NAME.resp).
#
#   bench/fuzz.sh [TRIES]          (default 100,000 per target)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/lib.sh"
tries=${1:-100000}
ensure_packages $SPANWIRE_BUILD_PACKAGES
java_home=$(find_jdk)
cd "$root"
JAVA_HOME="$java_home" ./mvnw -B -q -DskipTests install >&2
status=0
run() { # module test
  local log start
  log=$(mktemp)
  start=$(date +%s)
  if JAVA_HOME="$java_home" ./mvnw -B -pl "$1" surefire:test -Dtest="$2" -Djqwik.tries.default="$tries" \
      -DfailIfNoTests=false >"$log" 2>&1; then
    printf '%-24s %s tries, passed, %s s\n' "$2" "$(grep -a -m1 -o 'tries = [0-9]*' "$log" | grep -o '[0-9]*$')" \
      "$(($(date +%s) - start))"
  else
    status=1
    printf '%-24s FAILED after %s s\n' "$2" "$(($(date +%s) - start))"
    grep -a -A6 'Shrunk Sample\|Original Sample' "$log" | cut -c1-2000 || tail -40 "$log"
  fi
  rm -f "$log"
}
run bpf EventDecoderFuzzTest
run exporter PipelineFuzzTest
run exporter HpackFuzzTest
run exporter SettingsFuzzTest
exit $status
