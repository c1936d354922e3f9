"""The project catalogue: every shipped design passes validation; bad files are refused precisely;
starting a cohort's project shares its parts among the tigistes."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Polygon

from fablabctl.file_limits import ValidationLimits
from fablabctl.geometry.drawing import load_drawing
from fablabctl.geometry.joints import joint_depth
from fablabctl.queue.catalogue import CatalogueError, load_catalogue, load_project, project_parts
from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER
from fablabctl.toolpath.materials import load_materials
from fablabctl.validation.validate import validate_file
from tests.geometry.assembly import joints, panel_shape, place_box
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


# --- the projects build real objects (issue 12) ---

LIBRARY = load_materials()
LASER_PARTS = [(pid, part) for pid, part in PARTS if part.kind == "laser"]
RAW_PARTS = {
    (pid, part["design"]): part
    for pid, project in CATALOGUE.items()
    for part in tomllib.loads((ROOT / "jobs" / f"{pid}.toml").read_text(encoding="utf-8"))["parts"]
}
BOXES = {"ruche": "ruche-pedagogique", "bungalow": "bungalow-a-insectes"}
ROOF_CLEARANCE_MM = 0.4  # the roof's slots, on purpose, so that it lifts off


def _thickness(project: str, folder: str) -> float:
    part = next(p for p in CATALOGUE[project].parts if p.design.parent.name == folder)
    thickness = LIBRARY[part.material].thickness_mm
    assert thickness is not None
    return thickness


@pytest.mark.parametrize(
    ("project", "part"), LASER_PARTS, ids=[f"{p}:{x.design.name}" for p, x in LASER_PARTS]
)
def test_every_laser_part_can_be_cut_by_the_laser_it_names(project: str, part) -> None:  # type: ignore[no-untyped-def]
    assert part.material in LIBRARY, f"{part.material} is not in materials.toml"
    material = LIBRARY[part.material]
    source = RAW_PARTS[(project, str(part.design.relative_to(ROOT / "designs")))].get("laser", "diode")
    assert source in material.sources, (
        f"{part.design.name}: {part.material} cannot be cut by a {source} laser"
    )
    if source == "diode":  # the site's default laser (the mobile lab's diode) takes it
        assert part.material in DEFAULT_LASER.materials


@pytest.mark.parametrize(
    ("project", "part"), LASER_PARTS, ids=[f"{p}:{x.design.name}" for p, x in LASER_PARTS]
)
def test_joints_are_cut_for_the_sheet_they_are_cut_from(project: str, part) -> None:  # type: ignore[no-untyped-def]
    depth = joint_depth(load_drawing(part.design, limits=ValidationLimits()).contours)
    thickness = LIBRARY[part.material].thickness_mm
    assert depth is None or depth == pytest.approx(thickness, abs=0.05), (part.design.name, depth, thickness)


@pytest.mark.parametrize("folder", sorted(BOXES))
def test_the_boxes_close_every_joint_filled_once(folder: str) -> None:
    t = _thickness(BOXES[folder], folder)
    panels = place_box(ROOT / "designs" / folder, t)
    found = joints(panels)
    walls = {"face", "dos", "cote gauche", "cote droit"}
    pairs = {frozenset((j.first, j.second)) for j in found}
    for wall in walls:  # every wall sits in the floor; front and back hold both sides
        assert frozenset(("fond", wall)) in pairs
    for side in ("cote gauche", "cote droit"):
        assert {frozenset(("face", side)), frozenset(("dos", side))} <= pairs
    for joint in found:
        assert joint.overlap_mm3 == 0, joint
        if "toit" in (joint.first, joint.second):  # loose on purpose: two slot ends per tab
            assert joint.gap_mm3 <= 2 * 2 * ROOF_CLEARANCE_MM * t * t * 1.05, joint
        else:
            assert joint.gap_mm3 == 0, joint
    roof = [j for j in found if "toit" in (j.first, j.second)]
    assert {j.first for j in roof} == {"face", "dos"}, "the roof is located by the front and back"


def test_the_window_screws_sit_in_the_overlap_with_margin() -> None:
    back = panel_shape(ROOT / "designs" / "ruche" / "dos.dxf")
    opening = Polygon(back.interiors[0])
    pane_drawing = load_drawing(ROOT / "designs" / "ruche" / "fenetre.dxf", limits=ValidationLimits())
    pane = panel_shape(ROOT / "designs" / "ruche" / "fenetre.dxf")
    screws = [Polygon(h) for h in pane.interiors]
    assert len(screws) == 4 and len(pane_drawing.contours) == 5
    # the pane centred on the opening, on the inside of the back
    dx = opening.centroid.x - pane.centroid.x
    dy = opening.centroid.y - pane.centroid.y
    placed = shapely.affinity.translate(pane, dx, dy)
    assert Polygon(placed.exterior).contains(opening.buffer(8.0)), "the pane covers the opening by 8 mm+"
    for screw in screws:
        hole = shapely.affinity.translate(screw, dx, dy)
        assert back.contains(hole.buffer(3.0)), "a screw must bite 3 mm of plywood all round"
        assert Polygon(placed.exterior).contains(hole.buffer(3.0)), "and stay 3 mm inside the pane"


def test_the_observation_window_is_clear_acrylic_cut_on_a_co2_laser() -> None:
    """A diode laser's beam goes through clear acrylic: the window names the laser it needs, and the
    default (diode) laser does not offer the material, so no diode machine is ever given the job."""
    window = RAW_PARTS[("ruche-pedagogique", "ruche/fenetre.dxf")]
    material = LIBRARY[window["material"]]
    assert "transparent" in material.name.fr and "diode" not in material.sources
    assert window.get("laser") == "co2" and window["material"] not in DEFAULT_LASER.materials
