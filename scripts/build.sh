#!/usr/bin/env bash
# Builds the agent jar (and the BPF objects inside it) exactly as the Docker image's build stage
# does; CI runs it outside Docker so that path cannot rot. Extra arguments go to Maven.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/lib.sh"
ensure_packages $SPANWIRE_BUILD_PACKAGES
java_home=$(find_jdk)
cd "$root"
JAVA_HOME="$java_home" ./mvnw -B -DskipTests "$@" package
ls -l exporter/target/spanwire.jar
