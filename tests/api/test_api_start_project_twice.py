"""Starting a cohort's project twice is refused with a clear message, unless a second set is asked for;
the catalogue's laser parts carry the laser they need onto their jobs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fablabctl.cli import app


def test_start_project_twice_is_refused_unless_asked_again(
    client: TestClient, headers: Callable[[str], dict[str, str]], user_ids: dict[str, int]
) -> None:
    trainer = headers("trainer")
    body = {
        "name": "Ruche",
        "starts_on": "2026-12-01",
        "ends_on": "2026-12-12",
        "project": "ruche-pedagogique",
    }
    cohort = client.post("/api/v1/cohorts", json=body, headers=trainer).json()
    for name in ("tigiste", "tigiste2"):
        enrolment = {"cohort_id": cohort["id"], "user_id": user_ids[name], "hours_due": 70}
        assert client.post("/api/v1/enrolments", json=enrolment, headers=trainer).status_code == 201
    start = f"/api/v1/cohorts/{cohort['id']}/start-project"
    first = client.post(start, headers=trainer)
    assert first.status_code == 201, first.text
    jobs = first.json()
    window = [j for j in jobs if j["material"] == "acrylic-clear-3mm"]
    assert window and all(j["settings"].get("laser") == "co2" for j in window)  # the catalogue's `laser`

    again = client.post(start, headers={**trainer, "Accept-Language": "en"})
    assert again.status_code == 409 and again.json()["code"] == "PROJECT_ALREADY_STARTED"
    message = again.json()["message"]
    assert "ruche-pedagogique" in message and f"{len(jobs)} jobs" in message and "--again" in message
    french = client.post(start, headers=trainer).json()["message"]
    assert french.startswith("Le projet « ruche-pedagogique » est déjà lancé pour cette cohorte")
    listed = client.get(f"/api/v1/jobs?cohort_id={cohort['id']}", headers=trainer).json()
    assert len(listed) == len(jobs)  # nothing created by the refused runs

    second = client.post(start, json={"again": True}, headers=trainer)
    assert second.status_code == 201, second.text
    assert len(second.json()) == len(jobs) and {j["settings"]["set"] for j in second.json()} == {2}


def test_the_cli_refuses_a_second_start_unless_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`fablabctl cohort start-project` on the server machine goes through the same route."""
    for key in ("FABLAB_DATABASE_URL", "FABLAB_API", "FABLAB_TOKEN", "FABLAB_ADMIN_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("FABLAB_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        output = result.stdout + (result.stderr if result.stderr_bytes is not None else "")
        assert result.exit_code == code, (args, result.exit_code, output)
        return output

    run("db", "upgrade")
    run("user", "add", "lea", "--role", "tigiste", "--display-name", "Léa")
    body = ("Signes", "--start", "2026-12-01", "--end", "2026-12-12", "--project", "signaletique")
    run("cohort", "add", *body)
    run("cohort", "enrol", "1", "lea", "--hours", "70")
    assert "Travaux créés" in run("cohort", "start-project", "1")
    refused = run("cohort", "start-project", "1", code=1)
    assert "déjà lancé" in refused and "--again" in refused, refused
    assert "Travaux créés" in run("cohort", "start-project", "1", "--again")
