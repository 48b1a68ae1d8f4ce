#!/usr/bin/env bash
# Runs the whole test suite: unit tests, kernel tests with real servers and clients on
# 127.0.0.1 (as root), configuration and demo-stack checks. Installs what it needs first. It
# builds the agent first with scripts/build.sh, the script the Docker image's build stage runs,
# so that path is exercised outside Docker too. Kernel tests run once per capture backend. Extra arguments go to Maven, e.g.
#   scripts/test.sh -pl bpf -Dtest=SocketCaptureKernelTest
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/lib.sh"
ensure_packages $SPANWIRE_BUILD_PACKAGES $SPANWIRE_RUNTIME_PACKAGES $SPANWIRE_TEST_PACKAGES
ensure_available_packages $SPANWIRE_OPTIONAL_TEST_PACKAGES
java_home=$(find_jdk)
cd "$root"
scripts/build.sh -q
# The newer clang the distribution offers must be among those the verifier check builds with.
SPANWIRE_VERIFIER_CLANGS=$(for p in $SPANWIRE_OPTIONAL_TEST_PACKAGES; do apt-cache show "$p" >/dev/null 2>&1 && echo "$p"; done | xargs)
export SPANWIRE_VERIFIER_CLANGS
# Extra arguments may select a few tests; the whole suite must have run the kernel tests.
whole_suite() { [ $# -eq 0 ]; }
rm -rf bpf/target/surefire-reports exporter/target/surefire-reports
JAVA_HOME="$java_home" ./mvnw -B "$@" verify
if whole_suite "$@"; then python3 scripts/kernel-tests-ran.py "default backend" bpf exporter; fi
# The run above captures on the socket tracepoints where the kernel has them (6.3+); the
# syscall-tracepoint backend, which older kernels get, then runs the kernel tests again.
if [ -d /sys/kernel/tracing/events/sock/sock_send_length ]; then
  echo "kernel tests again on the syscall-tracepoint capture backend"
  rm -rf bpf/target/surefire-reports exporter/target/surefire-reports
  JAVA_HOME="$java_home" ./mvnw -B "$@" -Dgroups=kernel -Dspanwire.capture.backend=syscall test
  if whole_suite "$@"; then python3 scripts/kernel-tests-ran.py "syscall backend" bpf exporter; fi
fi
