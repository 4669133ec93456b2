#!/usr/bin/env bash
# The OIDC throughput comparison in one command: installs node-oidc-provider
# at the version package-lock.json pins (npm ci), builds the benchmark in
# release mode and runs it. The benchmark starts the gateway and
# node-oidc-provider itself, on loopback, and stops both when it ends.
#
#   bench/run-oidc.sh            # from anywhere in the repository
#   BENCH_REQUESTS=2000 bench/run-oidc.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
(cd "$here/oidc" && npm ci --no-audit --no-fund --loglevel=error)
cd "$here/.."
exec cargo run --release -p bench --bin oidc_throughput
