"""`fablabctl validate` as a real subprocess: exit status, JSON, language, --bed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.validation import cases

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fablabctl", "validate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", **env},
    )


def test_good_file_exits_0(tmp_path: Path) -> None:
    result = run(str(cases.stl_box(tmp_path / "box.stl")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


def test_errors_exit_1_with_json_findings(tmp_path: Path) -> None:
    result = run(str(CORPUS / "dxf/openscad__open-polyline.dxf"), "--json", "--lang", "en")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    finding = next(f for f in report["findings"] if f["code"] == "DXF_OPEN_CONTOUR")
    assert set(finding) >= {"code", "severity", "message", "location", "hint"}
    assert finding["message"].startswith("Open contour")
    assert report["metrics"]["size_mm"] == [100.0, 100.0]


def test_unreadable_exits_2(tmp_path: Path) -> None:
    assert run(str(cases.png_renamed(tmp_path / "x.stl"))).returncode == 2
    assert run(str(cases.truncated_claiming_billions(tmp_path / "y.stl"))).returncode == 2
    assert run(str(tmp_path / "missing.stl")).returncode == 2


def test_bed_option_checks_against_that_size(tmp_path: Path) -> None:
    box = cases.stl_box(tmp_path / "box.stl", (150, 20, 20))
    assert run(str(box), "--bed", "250x210x210").returncode == 0
    small = run(str(box), "--bed", "120x120x120", "--lang", "fr")
    assert small.returncode == 1
    assert "STL_TOO_LARGE_FOR_BED" in small.stdout and "ne rentre sur aucune" in small.stdout
    assert run(str(box), "--bed", "huge").returncode == 2


def test_unknown_machine_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fablabctl",
            "validate",
            str(cases.stl_box(tmp_path / "b.stl")),
            "--machine",
            "nope",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "FABLAB_DATA_DIR": str(tmp_path / "var")},
    )
    assert result.returncode == 2
    assert "machine inconnue" in result.stderr  # French unless --lang en / FABLAB_LANG=en


def test_upload_limit_setting_applies_to_the_cli(tmp_path: Path) -> None:
    """FABLAB_MAX_UPLOAD_MB (64 by default) is the CLI's limit too, raised as well as lowered."""
    big = tmp_path / "big.stl"
    with big.open("wb") as stream:
        stream.truncate(70 * 1024 * 1024)  # sparse: 70 MB of zeros, nothing written
    refused = run(str(big), "--json", "--lang", "en")
    assert refused.returncode == 2
    assert [f["code"] for f in json.loads(refused.stdout)["findings"]] == ["FILE_TOO_LARGE"]
    raised = run(str(big), "--json", FABLAB_MAX_UPLOAD_MB="100")
    assert "FILE_TOO_LARGE" not in raised.stdout, raised.stdout
    small = run(str(cases.stl_box(tmp_path / "box.stl")), "--json", FABLAB_MAX_UPLOAD_MB="0.0001")
    assert small.returncode == 2 and "FILE_TOO_LARGE" in small.stdout
    wrong = run(str(big), FABLAB_MAX_UPLOAD_MB="-1")
    assert wrong.returncode == 2 and "FABLAB_MAX_UPLOAD_MB" in wrong.stderr
