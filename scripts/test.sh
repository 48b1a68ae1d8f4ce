#!/usr/bin/env bash
# Runs the whole test suite: unit tests, kernel tests with real servers and clients on
# 127.0.0.1 (as root), configuration checks. Installs what it needs first. Extra arguments go
# to Maven, e.g. scripts/test.sh -pl bpf -Dtest=CaptureKernelTest
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/lib.sh"
ensure_packages $SPANWIRE_BUILD_PACKAGES $SPANWIRE_TEST_PACKAGES
java_home=$(find_jdk)
cd "$root"
JAVA_HOME="$java_home" ./mvnw -B "$@" verify
