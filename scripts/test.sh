#!/usr/bin/env bash
# The test command: set everything up, then lint, type-check and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
.venv/bin/ruff check fablabctl tests bench designs
.venv/bin/mypy
status=0
# a crashed worker ends the run with its report (a replaced worker can leave xdist waiting forever)
.venv/bin/pytest -q -n 2 --dist loadfile --max-worker-restart=0 "$@" || status=$?
if [ "$status" = 5 ]; then
  echo "fablabctl: pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$status"
