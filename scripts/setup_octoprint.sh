#!/usr/bin/env bash
# A real OctoPrint server for the OctoPrint driver's tests, in its own virtual environment
# (its pinned dependencies must not clash with ours). Idempotent: does nothing once installed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/quiet.sh
venv=.venv-octoprint
if [ -x "$venv/bin/octoprint" ] && "$venv/bin/python" -c 'import octoprint' 2>/dev/null; then
  exit 0
fi
echo "fablabctl: installing OctoPrint 1.11 into $venv (for the driver tests)"
quietly "creating $venv" python3 -m venv "$venv"
quietly "upgrading pip in $venv" "$venv/bin/python" -m pip install -q --upgrade pip
quietly "installing OctoPrint" "$venv/bin/python" -m pip install -q "octoprint==1.11.*"
