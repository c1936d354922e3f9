"""`bench/run_all`: every bench's rows in one table; a failing bench is a row, not the end of the run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

RUN_ALL = Path(__file__).resolve().parents[2] / "bench" / "run_all"


def test_rows_of_every_bench_and_a_row_for_a_failure(tmp_path: Path) -> None:
    shutil.copy(RUN_ALL, tmp_path / "run_all")
    (tmp_path / "a_good.py").write_text(
        "import sys\nassert '--table' in sys.argv and '--quick' in sys.argv\n"
        "print('| x | ratio | 1.00x | ≤ 2x | yes |')\n"
    )
    (tmp_path / "b_broken.py").write_text("# --table\nraise RuntimeError('no corpus here')\n")
    (tmp_path / "c_silent.py").write_text("# --table\nprint('nothing in table form')\n")
    (tmp_path / "_helper.py").write_text("# --table\nraise SystemExit('a helper is never run')\n")
    (tmp_path / "served.py").write_text("raise SystemExit('a module benches import, not a bench')\n")
    done = subprocess.run(
        [sys.executable, str(tmp_path / "run_all"), "--quick", "--timeout", "60"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("|")]
    assert rows[0] == "| area | measure | figure | target | met |"
    assert rows[2] == "| x | ratio | 1.00x | ≤ 2x | yes |"
    assert rows[3].startswith("| b_broken | (bench failed, exit 1) | RuntimeError: no corpus here")
    assert rows[4].startswith("| c_silent | (no rows printed) | nothing in table form")
    assert len(rows) == 5  # the helpers were not run
