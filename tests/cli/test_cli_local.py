"""The CLI on the server machine: same service functions as the API, straight on the database."""

from __future__ import annotations

from pathlib import Path

import pytest
import trimesh
from typer.testing import CliRunner

from fablabctl.cli import app


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for key in ("FABLAB_DATABASE_URL", "FABLAB_API", "FABLAB_TOKEN", "FABLAB_ADMIN_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("FABLAB_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> str:
        result = runner.invoke(app, list(args))
        output = result.stdout + (result.stderr if result.stderr_bytes is not None else "")
        assert (result.exit_code == 0) == ok, (args, result.exit_code, output)
        return output

    return invoke


def test_db_upgrade_then_first_admin_notice_once(run) -> None:  # type: ignore[no-untyped-def]
    assert "base à jour" in run("db", "upgrade")
    first = run("user", "list")
    assert "mot de passe" in first and "admin" in first
    assert "mot de passe" not in run("user", "list")


def test_people_machines_cohorts_and_jobs(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = run("user", "add", "lea", "--role", "tigiste", "--display-name", "Léa")
    assert "compte #" in out and "mot de passe" in out
    run("user", "add", "marc", "--role", "trainer", "--password", "formateur-2026")
    assert "Léa" in run("user", "list", "--role", "tigiste")

    run(
        "machine",
        "add",
        "prusa-1",
        "--kind",
        "printer",
        "--driver",
        "marlin",
        "--bed",
        "250x210x210",
        "--port",
        "/dev/ttyUSB0",
        "--material",
        "PLA",
    )
    listing = run("machine", "list")
    assert "prusa-1" in listing and "250x210x210" in listing
    assert "MACHINE_NAME_TAKEN" in run(
        "machine",
        "add",
        "prusa-1",
        "--kind",
        "printer",
        "--driver",
        "marlin",
        "--bed",
        "250x210x210",
        "--simulated",
        ok=False,
    )
    assert "--bed" in run(
        "machine", "add", "x", "--kind", "laser", "--driver", "grbl", "--bed", "huge", "--simulated", ok=False
    )

    assert "cohorte #1" in run(
        "cohort",
        "add",
        "Ruche décembre",
        "--start",
        "2026-12-01",
        "--end",
        "2026-12-12",
        "--project",
        "ruche-pedagogique",
    )
    assert "Ruche décembre" in run("cohort", "list")
    assert "AAAA-MM-JJ" in run("cohort", "add", "x", "--start", "1/12/2026", "--end", "2026-12-12", ok=False)

    stl = tmp_path / "cube.stl"
    trimesh.creation.box(extents=(20, 20, 20)).export(stl)
    assert "travail #1 soumis" in run("job", "submit", str(stl), "--material", "PLA")
    assert "submitted" in run("job", "list", "--state", "submitted")
    assert "queued" in run("job", "approve", "1")
    assert "ILLEGAL_TRANSITION" in run("job", "approve", "1", ok=False)
    assert "cancelled" in run("job", "cancel", "1", "--reason", "test")
    assert "JOB_NOT_FOUND" in run("job", "cancel", "42", ok=False)
    assert "introuvable" in run("job", "submit", str(tmp_path / "missing.stl"), "--material", "PLA", ok=False)
