#!/usr/bin/env bash
# Trace-link accuracy: the linking scenarios of AgentLinkingKernelTest (real curl, nginx, python,
# node, a Java server and nghttpd on 127.0.0.1, the agent exporting to an OTLP receiver) with more
# requests and concurrency than CI runs, and a table of each link's verdicts: correct, orphan (no
# parent where there is one) or wrong (never allowed: the run fails).
#
#   bench/links.sh [REQUESTS] [CONCURRENCY]        (default 200 requests, 16 at once)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/lib.sh"
requests=${1:-200}
concurrency=${2:-16}
[ "$(id -u)" -eq 0 ] || die "needs root (the agent loads eBPF programs)"
ensure_packages $SPANWIRE_BUILD_PACKAGES $SPANWIRE_RUNTIME_PACKAGES $SPANWIRE_TEST_PACKAGES
java_home=$(find_jdk)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cd "$root"
JAVA_HOME="$java_home" ./mvnw -B -q -DskipTests install >&2
status=0
CI=true JAVA_HOME="$java_home" ./mvnw -B -pl exporter test -Dtest=AgentLinkingKernelTest \
  -Dspanwire.links.requests="$requests" -Dspanwire.links.concurrency="$concurrency" >"$log" 2>&1 || status=$?
printf '%-72s %-34s %8s %8s %8s\n' scenario link correct orphan wrong
grep -o '^links \[.*' "$log" | python3 -c '
import re, sys
for line in sys.stdin:
    m = re.match(r"links \[(.*)\] of (\d+) requests: \{(.*)\}$", line.strip())
    if not m:
        continue
    scenario, body = m.group(1), m.group(3)
    for link, verdicts in re.findall(r"\d+ ([^=]+?)=\{([^}]*)\}", body):
        counts = dict(kv.split("=") for kv in verdicts.split(", "))
        print("%-72s %-34s %8s %8s %8s" % (scenario, link, counts.get("correct", "0"), counts.get("orphan", "0"),
                                           counts.get("wrong", "0")))
'
grep -o '^sampling .*' "$log" || true
if [ "$status" -ne 0 ]; then
  grep -E 'FAIL|expected|Expecting' "$log" | head -20 >&2
  die "a scenario failed (log above)"
fi
