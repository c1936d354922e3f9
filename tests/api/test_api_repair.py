"""Repair is offered, never silent: a new design linked to the original, validated again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from fablabctl.config import Settings
from tests.validation import cases

Headers = Callable[[str], dict[str, str]]


def test_repair_creates_a_new_linked_design(client: TestClient, headers: Headers, tmp_path: Path) -> None:
    alice = headers("tigiste")
    broken = cases.open_box(tmp_path / "ouvert.stl").read_bytes()
    uploaded = client.post("/api/v1/designs", files={"file": ("ouvert.stl", broken)}, headers=alice).json()
    assert uploaded["ok"] is False
    hole = next(f for f in uploaded["report"]["findings"] if f["code"] == "STL_NOT_WATERTIGHT")
    assert hole["repairable"] is True

    response = client.post(f"/api/v1/designs/{uploaded['id']}/repair", headers=alice)
    assert response.status_code == 201, response.text
    repaired = response.json()
    assert repaired["ok"] is True
    assert repaired["derived_from_id"] == uploaded["id"]
    assert repaired["filename"] == "ouvert-repare.stl"
    assert repaired["sha256"] != uploaded["sha256"]
    # the original is untouched
    assert client.get(f"/api/v1/designs/{uploaded['id']}", headers=alice).json()["ok"] is False
    # another tigiste cannot repair (or even see) it
    assert (
        client.post(f"/api/v1/designs/{uploaded['id']}/repair", headers=headers("tigiste2")).status_code
        == 404
    )


def test_repair_is_for_stl_only(client: TestClient, headers: Headers, tmp_path: Path) -> None:
    alice = headers("tigiste")
    dxf = cases.dxf_open_contour(tmp_path / "o.dxf").read_bytes()
    uploaded = client.post("/api/v1/designs", files={"file": ("o.dxf", dxf)}, headers=alice).json()
    response = client.post(f"/api/v1/designs/{uploaded['id']}/repair", headers=alice)
    assert response.status_code == 422
    assert response.json()["code"] == "REPAIR_NOT_AVAILABLE"


CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "stl"


def test_repair_never_returns_a_worse_mesh(client: TestClient, headers: Headers) -> None:
    """A valid file whose only warning is degenerate faces stays closed, with its volume; a file no
    repair can fix is kept as it is, and the answer says so (no new design)."""
    alice = headers("tigiste")
    frame = (CORPUS / "beehive__nuc_frame.stl").read_bytes()
    uploaded = client.post("/api/v1/designs", files={"file": ("cadre.stl", frame)}, headers=alice).json()
    assert uploaded["ok"] and {f["code"] for f in uploaded["report"]["findings"]} == {"STL_DEGENERATE_FACES"}
    response = client.post(f"/api/v1/designs/{uploaded['id']}/repair", headers=alice)
    assert response.status_code == 201, response.text
    repaired = response.json()
    assert repaired["ok"] and repaired["report"]["findings"] == []
    volume = uploaded["report"]["metrics"]["volume_mm3"]
    assert abs(repaired["report"]["metrics"]["volume_mm3"] - volume) < 1e-6 * volume
    again = client.post(f"/api/v1/designs/{repaired['id']}/repair", headers=alice)
    assert again.status_code == 422 and again.json()["code"] == "REPAIR_NOT_BETTER"

    soup = (CORPUS / "trimesh__soup.stl").read_bytes()
    loose = client.post("/api/v1/designs", files={"file": ("soupe.stl", soup)}, headers=alice).json()
    before = len(client.get("/api/v1/designs", headers=alice).json())
    refused = client.post(f"/api/v1/designs/{loose['id']}/repair", headers=alice)
    assert refused.status_code == 422 and refused.json()["code"] == "REPAIR_NOT_BETTER"
    assert "conservé" in refused.json()["message"] or "kept" in refused.json()["message"]
    assert len(client.get("/api/v1/designs", headers=alice).json()) == before


def test_a_repair_counts_in_the_owners_quota_and_leaves_nothing_behind(
    client: TestClient, headers: Headers, settings: Settings, tmp_path: Path
) -> None:
    """The repaired copy is a new file of the owner's: past their quota it is a 413 and nothing is kept."""
    alice = headers("tigiste")
    broken = cases.open_box(tmp_path / "ouvert.stl").read_bytes()
    uploaded = client.post("/api/v1/designs", files={"file": ("ouvert.stl", broken)}, headers=alice).json()
    settings.user_quota_mb = (len(broken) + 10) / (1024 * 1024)  # the original fits, not a second file
    stored = sorted(p.name for p in settings.designs_dir.rglob("*") if p.is_file())
    refused = client.post(f"/api/v1/designs/{uploaded['id']}/repair", headers=alice)
    assert refused.status_code == 413 and refused.json()["code"] == "QUOTA_EXCEEDED", refused.text
    assert len(client.get("/api/v1/designs", headers=alice).json()) == 1
    assert sorted(p.name for p in settings.designs_dir.rglob("*") if p.is_file()) == stored
    assert not list(settings.designs_dir.glob(".repair-*")), "a work directory was left behind"
    huge = client.post("/api/v1/designs/99999999999999999999/repair", headers=alice)
    assert huge.status_code == 422 and huge.json()["code"] == "INVALID_INPUT"
