#!/usr/bin/env bash
# Builds Vestibule and starts it with embedded defaults: SQLite and a
# generated master key under ./data, a self-signed certificate for
# https://localhost:8443. On a fresh Debian machine (as root) it first
# installs the build's system packages. The first start prints the first
# admin's generated password once; set VESTIBULE_BOOTSTRAP_ADMIN_PASSWORD to
# choose it instead. Every setting is in README.md, Configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
missing=()
command -v cc >/dev/null || missing+=(build-essential)
command -v pkg-config >/dev/null || missing+=(pkg-config)
dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
command -v cargo >/dev/null || missing+=(cargo)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing: ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "==> building (release)"
cargo build --release --locked -p gateway --bin vestibule
url="${VESTIBULE_PUBLIC_URL:-https://localhost:8443}"
echo "==> starting Vestibule at ${url} (sign in at ${url}/login as ${VESTIBULE_BOOTSTRAP_ADMIN_LOGIN:-admin@example.com}; Ctrl-C stops it)"
exec ./target/release/vestibule serve "$@"
