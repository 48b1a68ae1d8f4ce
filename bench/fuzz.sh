#!/usr/bin/env bash
# The fuzz targets, longer than the short run every build makes (2,000 tries each there):
# the ring-buffer record decoder, the HTTP/1 parser alone (one piece against one byte at a time),
# the whole per-connection pipeline (HTTP/1 parser and pairing,
# HTTP/2 frames, HPACK, streams) on mutants of recorded conversations, the HPACK decoder on
# mutants of hpack-test-case, the configuration loader. Prints tries, first seed and time per
# target; a failure prints the failing case's input and seed (rerun it alone with
# -Dspanwire.fuzz.seed=SEED -Dspanwire.fuzz.tries=1): keep its input under
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
  local log
  log=$(mktemp)
  if JAVA_HOME="$java_home" ./mvnw -B -pl "$1" surefire:test -Dtest="$2" -Dspanwire.fuzz.tries="$tries" \
      -DfailIfNoTests=false >"$log" 2>&1; then
    grep -a '^fuzz \|^pipeline:' "$log" || true
  else
    status=1
    echo "$2 FAILED"
    grep -a -B2 -A30 '<<< FAIL\|<<< ERROR' "$log" | cut -c1-3000 | head -60
  fi
  rm -f "$log"
}
run bpf EventDecoderFuzzTest
run exporter PipelineFuzzTest
run exporter Http1ParserFuzzTest
run exporter HpackFuzzTest
run exporter SettingsFuzzTest
exit $status
