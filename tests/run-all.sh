#!/usr/bin/env bash
# Runs Vestibule's whole test suite. On a fresh Debian machine, as root, it
# first installs what the tests need: a C toolchain and OpenSSL headers for
# the build, PostgreSQL (the second storage backend), xmlsec1 (the SAML
# interoperability peer), Node.js with Chromium and playwright-core (the
# browser tests). It stops at the first failing stage and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

missing=()
command -v cc >/dev/null || missing+=(build-essential)
command -v pkg-config >/dev/null || missing+=(pkg-config)
dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
command -v xmlsec1 >/dev/null || missing+=(xmlsec1)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
command -v cargo >/dev/null || missing+=(cargo)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
dpkg -s libxmlsec1-dev >/dev/null 2>&1 || missing+=(libxmlsec1-dev libxml2-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing: ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# PostgreSQL: the storage tests run on both backends and never skip one.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "==> starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
fi
export VESTIBULE_TEST_POSTGRES_URL="${VESTIBULE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if ! psql "$VESTIBULE_TEST_POSTGRES_URL" -Atqc 'select 1' >/dev/null 2>&1; then
  # A stock Debian install asks for a password over TCP: give the postgres
  # role a test password (this machine's database is for tests).
  su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'vestibule-test'\"" >/dev/null
  export VESTIBULE_TEST_POSTGRES_URL="postgres://postgres:vestibule-test@127.0.0.1:5432/postgres"
fi
# Databases left by earlier runs.
for db in $(psql "$VESTIBULE_TEST_POSTGRES_URL" -Atqc "select datname from pg_database where datname like 'vestibule_test_%'"); do
  psql "$VESTIBULE_TEST_POSTGRES_URL" -qc "drop database if exists \"$db\"" >/dev/null
done

echo "==> building"
cargo build --workspace --tests --bins --locked

echo "==> Rust unit and integration tests (SQLite and PostgreSQL)"
cargo test --workspace --locked

echo "==> Python peers (Okta SDK, SAML service providers, OIDC relying parties)"
bash tests/python/run.sh

echo "==> browser tests (headless Chromium)"
bash tests/browser/setup.sh
(cd tests/browser && VESTIBULE_BIN="$PWD/../../target/debug/vestibule" node --test)
