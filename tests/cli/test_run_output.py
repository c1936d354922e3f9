"""The run command's output: the installer's noise hidden, the service's first lines easy to find."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.postgres_server import free_port

ROOT = Path(__file__).resolve().parents[2]
NOISE = "WARNING: Location 'file:///opt/pypi/simple' is ignored: it is neither a file nor a directory."


def quietly(tmp_path: Path, output: str, status: int) -> subprocess.CompletedProcess[str]:
    (tmp_path / "out.txt").write_text(output)
    script = f'. scripts/quiet.sh; quietly "the step" sh -c "cat {tmp_path}/out.txt; exit {status}"'
    return subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_a_step_that_works_prints_nothing(tmp_path: Path) -> None:
    done = quietly(tmp_path, f"{NOISE}\nSetuptoolsDeprecationWarning: License classifiers\n", 0)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""


def test_a_step_that_fails_shows_its_output_without_the_noise(tmp_path: Path) -> None:
    failed = quietly(tmp_path, f"{NOISE}\nERROR: No matching distribution for fablabctl\n", 3)
    assert failed.returncode == 3
    assert "fablabctl: the step failed (exit 3)" in failed.stderr
    assert "No matching distribution" in failed.stderr and "is ignored" not in failed.stderr


def test_the_service_starts_with_its_address_and_first_password_boxed(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "FABLAB_DATA_DIR": str(tmp_path / "var"), "FABLAB_PORT": str(port), "COLUMNS": "120"}
    for key in ("FABLAB_DATABASE_URL", "FABLAB_ADMIN_PASSWORD", "FABLAB_LANG"):
        env.pop(key, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "fablabctl", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any(line.startswith("╰") for line in lines):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    box = [line for line in lines if line[:1] in "╭│╰"]
    assert box and box[0].startswith("╭─ fablabctl"), lines
    text = "\n".join(box)
    assert f"Service : http://127.0.0.1:{port}" in text
    assert re.search(r"Premier compte administrateur « admin », mot de passe : \S{12,}", text), text
    assert "Mode démo" in text
