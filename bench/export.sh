#!/usr/bin/env bash
# OTLP span export throughput: the exporter pinned to one core, a counting OTLP/gRPC receiver in
# its own process pinned to another, all on 127.0.0.1. Prints spans per second and the
# exporter's CPU per 10,000 spans, with gzip (the default) and without.
#
#   bench/export.sh [SPANS]             (default 1,000,000 per run)
#   bench/export.sh --rtt MS [SPANS]    an endpoint MS away: the receiver answers each request MS
#                                       after it came; gzip, 1, 2 and 4 requests in flight
#                                       (default 1,000,000 spans per run)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/lib.sh"
rtt=0
if [ "${1:-}" = --rtt ]; then
  rtt=${2:?--rtt needs milliseconds}
  shift 2
  [[ $rtt =~ ^[0-9]+$ ]] || die "--rtt takes whole milliseconds, got $rtt"
fi
spans=${1:-1000000}
[ "$(nproc)" -ge 2 ] || die "needs two cores: one for the exporter, one for the receiver"
ensure_packages $SPANWIRE_BUILD_PACKAGES $SPANWIRE_RUNTIME_PACKAGES
java_home=$(find_jdk)
(cd "$root" && JAVA_HOME="$java_home" ./mvnw -B -q -Pbench -DskipTests install >&2)
jar=$root/bench/jmh/target/benchmarks.jar
java=("$java_home/bin/java" --enable-native-access=ALL-UNNAMED --add-opens java.base/java.lang=ALL-UNNAMED -cp "$jar")

port=$(free_port)
log=$(mktemp)
taskset -c 1 "${java[@]}" dev.spanwire.bench.CountingReceiver "$port" "$rtt" >"$log" 2>&1 & receiver=$!
trap 'kill $receiver 2>/dev/null || true; wait 2>/dev/null || true; rm -f "$log"' EXIT
await_receiver "$log"
runs=0
if [ "$rtt" -gt 0 ]; then
  echo "the receiver answers each request ${rtt} ms after it came"
  for concurrent in 1 2 4; do
    taskset -c 0 "${java[@]}" -Dspanwire.bench.concurrent=$concurrent dev.spanwire.bench.ExportBenchmark "$spans" gzip \
      "http://127.0.0.1:$port" 2>/dev/null
    runs=$((runs + 1))
  done
else
  for compression in gzip none; do
    taskset -c 0 "${java[@]}" dev.spanwire.bench.ExportBenchmark "$spans" "$compression" "http://127.0.0.1:$port" 2>/dev/null
    runs=$((runs + 1))
  done
fi
# each run sends a fifth more to warm up; the receiver's own count says they all arrived
kill -TERM $receiver; wait $receiver 2>/dev/null || true
echo "receiver: $(grep received "$log") (expected $((runs * (spans + spans / 5))) spans)"
