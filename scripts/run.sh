#!/usr/bin/env bash
# The run command: set everything up, then start the service on http://127.0.0.1:8000
# (SQLite under var/, migrations applied, first admin, simulated machines in demo mode).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh run
exec .venv/bin/fablabctl serve "$@"
