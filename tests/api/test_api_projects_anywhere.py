"""The project catalogue is found wherever the service is started from (a service manager, a launcher)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient


def test_catalogue_found_from_any_working_directory(
    client: TestClient,
    headers: Callable[[str], dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    response = client.get("/api/v1/projects", headers=headers("trainer"))
    assert response.status_code == 200, response.text
    ids = {project["id"] for project in response.json()}
    assert {"ruche-pedagogique", "bungalow-a-insectes"} <= ids, ids
