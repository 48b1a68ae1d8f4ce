#!/usr/bin/env bash
# Builds and runs the JMH benchmarks with the GC profiler (bytes allocated per operation).
# Arguments go to JMH, e.g. bench/jmh.sh PipelineBenchmark -p scenario=pipelined -f 1
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/lib.sh"
ensure_packages $SPANWIRE_BUILD_PACKAGES $SPANWIRE_RUNTIME_PACKAGES
java_home=$(find_jdk)
(cd "$root" && JAVA_HOME="$java_home" ./mvnw -B -q -Pbench -DskipTests package >&2)
exec "$java_home/bin/java" --enable-native-access=ALL-UNNAMED -jar "$root/bench/jmh/target/benchmarks.jar" -prof gc "$@"
