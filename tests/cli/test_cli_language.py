"""The CLI speaks the chosen language, shows whole tables with names, and prints no library noise."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import trimesh
from rich.console import Console
from typer.testing import CliRunner

from fablabctl.cli import app, common

MACHINE = (
    "machine",
    "add",
    "octo-1",
    "--kind",
    "printer",
    "--driver",
    "octoprint",
    "--url",
    "http://x",
    "--api-key",
    "k",
    "--bed",
    "250x210x210",
)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for key in ("FABLAB_DATABASE_URL", "FABLAB_API", "FABLAB_TOKEN", "FABLAB_ADMIN_PASSWORD", "FABLAB_LANG"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("FABLAB_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True, env: dict[str, str] | None = None) -> str:
        result = runner.invoke(app, list(args), env=env)
        output = result.stdout + (result.stderr if result.stderr_bytes is not None else "")
        assert (result.exit_code == 0) == ok, (args, result.exit_code, output)
        return output

    return invoke


def test_english_by_env_or_option_french_by_default(run) -> None:  # type: ignore[no-untyped-def]
    english = run(*MACHINE, env={"FABLAB_LANG": "en"})
    assert "machine #1 “octo-1” (printer, octoprint) added" in english
    assert "ajoutée" not in english and "mot de passe" not in english and "password" in english
    listing = run("--lang", "en", "machine", "list")
    assert "name" in listing and "driver" in listing and "nom" not in listing and "pilote" not in listing
    refused = run("--lang", "en", "user", "add", "x", "--role", "tigiste", ok=False)
    assert refused.startswith("Error INVALID_INPUT") and "at least 2 character" in refused, refused
    assert "Erreur" not in refused and "String should" not in refused

    french = run("machine", "remove", "1")
    assert french.strip() == "machine #1 retirée"
    refused = run("user", "add", "x", "--role", "tigiste", ok=False)
    assert "Erreur INVALID_INPUT : Données invalides : username (au moins 2 caractère(s))" in refused
    assert "String should" not in refused
    assert "file not found: nope.stl" in run("--lang", "en", "validate", "nope.stl", ok=False)


def test_job_submit_shows_the_hint_and_the_place_like_validate(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mesh = trimesh.creation.box(extents=(20, 20, 20))
    mesh.faces = mesh.faces[:-2]  # one square side missing: a hole
    open_box = tmp_path / "boite-ouverte.stl"
    mesh.export(open_box)
    validated = run("validate", str(open_box), ok=False)
    submitted = run("job", "submit", str(open_box), "--material", "PLA", ok=False)
    assert "STL_NOT_WATERTIGHT" in submitted
    hint = next(line for line in validated.splitlines() if line.strip().startswith("→"))
    assert hint.strip() in submitted  # the fix hint
    place = next(line for line in validated.splitlines() if line.strip().startswith("{"))
    assert place.strip() in submitted  # the location (faces, a point)
    assert "corrigez-le avant de le soumettre (boite-ouverte.stl)" in submitted


def test_job_list_shows_the_file_and_the_persons_name(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cube = tmp_path / "support-etagere.stl"
    trimesh.creation.box(extents=(20, 20, 20)).export(cube)
    run("job", "submit", str(cube), "--material", "PLA")
    admin = json.loads(run("user", "list", "--json"))[0]  # the first admin, who submitted it
    listing = run("job", "list")
    assert "support-etagere.stl" in listing
    row = next(line for line in listing.splitlines() if "support-etagere.stl" in line)
    assert admin["display_name"] in row
    header = next(line for line in listing.splitlines() if "état" in line)
    assert "fichier" in header and "tigiste" in header


def test_tables_are_never_cut_at_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(
        common, "console", Console(file=out, width=80, force_terminal=True, color_system=None)
    )
    reason = "aucune machine de ce site ne peut prendre ce travail : matériau non chargé sur la laser"
    common.show_table(
        common.Text("Travaux", "Jobs"),
        ("id", "état", "fichier", "type", "matériau", "qté", "prio", "tigiste", "machine", "motif"),
        [
            (
                12,
                "waiting_operator",
                "ruche-toit-gauche.dxf",
                "laser",
                "plywood-poplar-5mm",
                1,
                0,
                "Léa",
                3,
                reason,
            )
        ],
    )
    text = out.getvalue()
    assert "…" not in text
    for word in ("waiting_operator", "ruche-toit-gauche.dxf", "plywood-poplar-5mm", "Léa"):
        assert word in text, text
    assert all(len(line) <= 80 for line in text.splitlines()), text  # the reason wraps instead


def test_no_deprecation_warning_from_an_in_process_command(tmp_path: Path) -> None:
    env = {**os.environ, "FABLAB_DATA_DIR": str(tmp_path / "var"), "PYTHONWARNINGS": "default"}
    for key in ("FABLAB_DATABASE_URL", "FABLAB_API", "FABLAB_TOKEN", "FABLAB_LANG"):
        env.pop(key, None)
    ok = subprocess.run(
        [sys.executable, "-m", "fablabctl", "machine", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run(
        [sys.executable, "-m", "fablabctl", "job", "approve", "42"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 1 and "JOB_NOT_FOUND" in refused.stderr
    for proc in (ok, refused):
        assert "Warning" not in proc.stderr, proc.stderr
