#!/usr/bin/env bash
# Runs the Python peers against the real gateway binary: installs each
# suite's requirements (tests/python/*/requirements.txt) into tests/.venv,
# then runs pytest over tests/python. Called by tests/run-all.sh.
set -euo pipefail
cd "$(dirname "$0")"
venv=../.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" || { apt-get install -y -qq python3-venv >/dev/null && python3 -m venv "$venv"; }
fi
"$venv/bin/pip" install -q --disable-pip-version-check pytest
for req in */requirements.txt; do
  [ -f "$req" ] && "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
done
set +e
"$venv/bin/python" -m pytest -q -p no:cacheprovider .
status=$?
set -e
# pytest exits 5 when it collects no test; that is a failure of the suite here.
exit $status
