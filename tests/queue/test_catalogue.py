"""The project catalogue: every shipped design passes validation; bad files are refused precisely;
starting a cohort's project shares its parts among the tigistes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from fablabctl.queue.catalogue import CatalogueError, load_catalogue, load_project, project_parts
from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER
from fablabctl.validation.validate import validate_file
from tests.queue.conftest import Lab

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = load_catalogue(ROOT / "jobs")
PARTS = [(pid, part) for pid, project in CATALOGUE.items() for part in project.parts]
logging.getLogger("ezdxf").setLevel(logging.ERROR)


def test_the_three_projects_are_there() -> None:
    assert set(CATALOGUE) == {"ruche-pedagogique", "bungalow-a-insectes", "signaletique"}
    signs = CATALOGUE["signaletique"]
    assert sum(p.quantity for p in signs.parts) == len(project_parts(signs))


@pytest.mark.parametrize(("project", "part"), PARTS, ids=[f"{p}:{part.design.name}" for p, part in PARTS])
def test_every_design_passes_validation(project: str, part) -> None:  # type: ignore[no-untyped-def]
    report = validate_file(part.design, machines=[DEFAULT_PRINTER, DEFAULT_LASER])
    assert report.ok, [f.code for f in report.errors]
    assert report.file_type == ("dxf" if part.kind == "laser" else "stl")
    assert report.fits  # fits the lab's default machine of that kind
    assert not {"DXF_OPEN_CONTOUR", "DXF_TEXT_NOT_OUTLINED", "STL_NOT_WATERTIGHT"} & report.codes


HEAD = "id = 'x'\ntitle_fr = 'X'\ntitle_en = 'X'\n"
PART = HEAD + "[[parts]]\nname_fr='a'\nname_en='a'\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEAD, "no parts"),
        (PART + "design='ruche/face.dxf'\nkind='mill'\nmaterial='m'\n", "unknown kind 'mill'"),
        (PART + "design='nope.dxf'\nkind='laser'\nmaterial='m'\n", "design file not found"),
        (
            PART + "design='ruche/face.dxf'\nkind='laser'\nmaterial='m'\nquantity=0\n",
            "quantity must be an integer",
        ),
        (
            HEAD + "[[parts]]\nname_en='a'\ndesign='ruche/face.dxf'\nkind='laser'\nmaterial='m'\n",
            "field 'name_fr' missing",
        ),
        ("id = [", "invalid TOML"),
    ],
)
def test_bad_files_are_refused_precisely(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "projet.toml"
    path.write_text(text)
    with pytest.raises(CatalogueError) as info:
        load_project(path, ROOT / "designs")
    assert message in info.value.message.en and "projet.toml" in info.value.message.en


def test_starting_a_project_shares_its_parts(lab: Lab) -> None:
    lab.context.settings.catalogue_dir = ROOT / "jobs"
    body = {"name": "Signes", "starts_on": "2026-12-01", "ends_on": "2026-12-12", "project": "signaletique"}
    cohort = lab.call("trainer", "POST", "/cohorts", json=body)
    missing = lab.client.post(f"/api/v1/cohorts/{cohort['id']}/start-project", headers=lab.auth("trainer"))
    assert missing.status_code == 409 and missing.json()["code"] == "COHORT_HAS_NO_TIGISTES"
    users = {u["username"]: u["id"] for u in lab.call("admin", "GET", "/users")}
    for name in ("lea", "sam"):
        lab.call(
            "trainer",
            "POST",
            "/enrolments",
            json={"cohort_id": cohort["id"], "user_id": users[name], "hours_due": 70},
        )
    jobs = lab.call("trainer", "POST", f"/cohorts/{cohort['id']}/start-project")
    assert len(jobs) == 7  # 1 sign + 2 brackets + 4 spacers
    assert {j["state"] for j in jobs} == {"submitted"}
    assert [j["owner_id"] for j in jobs[:4]] == [users["lea"], users["sam"], users["lea"], users["sam"]]
    assert {j["kind"] for j in jobs} == {"laser", "printer"}
    assert len(lab.call("lea", "GET", "/jobs")) == 4  # each tigiste sees their own parts
    unknown = lab.client.post(
        f"/api/v1/cohorts/{cohort['id']}/start-project",
        json={"project": "fusee"},
        headers=lab.auth("trainer"),
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "PROJECT_NOT_FOUND"
    denied = lab.client.post(f"/api/v1/cohorts/{cohort['id']}/start-project", headers=lab.auth("lea"))
    assert denied.status_code == 403
    catalogue = lab.call("lea", "GET", "/projects")
    assert {p["id"] for p in catalogue} >= {"ruche-pedagogique"}
