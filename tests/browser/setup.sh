#!/usr/bin/env bash
# Installs what the browser tests need, on Debian as root, and does nothing
# that is already done: Debian's Chromium (the tests drive it; playwright-core
# downloads no browser of its own) and the pinned npm dependencies.
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive

if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian's chromium"
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi

if ! command -v npm >/dev/null; then
  echo "==> installing nodejs and npm"
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi

# playwright-core has no install script that fetches a browser, but say so
# plainly anyway.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi
