"""Real third-party files (../shared/corpus): our verdicts agree with the measured facts in FACTS.tsv."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pytest

from fablabctl.validation.validate import validate_file

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
with (CORPUS / "FACTS.tsv").open(newline="") as facts_file:
    FACTS = {row["file"]: row for row in csv.DictReader(facts_file, delimiter="\t")}
STL = sorted(name for name, row in FACTS.items() if row["kind"] == "stl")
DXF = sorted(name for name, row in FACTS.items() if row["kind"] == "dxf")


@pytest.fixture(autouse=True)
def _quiet_ezdxf() -> None:
    logging.getLogger("ezdxf").setLevel(logging.ERROR)


@pytest.mark.parametrize("name", STL)
def test_stl_facts(name: str) -> None:
    row = FACTS[name]
    report = validate_file(CORPUS / name)
    assert report.file_type == "stl"
    if row["faces"] == "0":
        assert "STL_EMPTY" in report.codes
        return
    assert report.metrics["triangles"] == int(row["faces"])
    closed_problems = {"STL_NOT_WATERTIGHT", "STL_NON_MANIFOLD"}
    if row["is_watertight"] == "False":
        assert report.codes & closed_problems, report.codes
    else:
        assert not report.codes & closed_problems, report.codes
    assert ("STL_INCONSISTENT_WINDING" in report.codes) == (row["is_winding_consistent"] == "False")
    assert ("STL_MULTIPLE_BODIES" in report.codes) == (int(row["body_count"]) > 1)
    expected_size = [float(v) for v in row["extents"].split("x")]
    assert report.metrics["size_mm"] == pytest.approx(expected_size, abs=0.01)
    if row["is_watertight"] == row["is_winding_consistent"] == "True":
        assert report.metrics["volume_mm3"] == pytest.approx(float(row["volume"]), rel=1e-3)
    if int(row["degenerate_faces"] or 0) > 0:
        assert "STL_DEGENERATE_FACES" in report.codes


@pytest.mark.parametrize("name", DXF)
def test_dxf_facts(name: str) -> None:
    row = FACTS[name]
    report = validate_file(CORPUS / name)
    assert report.file_type == "dxf"
    if row["load"] == "failed":
        assert report.codes == {"DXF_UNREADABLE"}
        return
    assert "DXF_UNREADABLE" not in report.codes
    if row["insunits"] == "absent" or row["insunits"] == "0":
        assert "DXF_UNITLESS" in report.codes
    elif row["insunits"] not in ("4", "absent"):
        assert "DXF_UNITS_CONVERTED" in report.codes
    if row["extents"] == "empty":
        assert "DXF_EMPTY" in report.codes


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("dxf/openscad__open-polyline.dxf", "DXF_OPEN_CONTOUR"),
        ("dxf/openscad__circle-double.dxf", "DXF_DUPLICATE_SEGMENTS"),
        ("dxf/dxf2gcode__1997_simplified_doppelte_linien.dxf", "DXF_DUPLICATE_SEGMENTS"),
        ("dxf/kabeja__hatch_1.dxf", "DXF_UNSUPPORTED_ENTITY"),
        ("dxf/ezdxf__text_alignments.dxf", "DXF_TEXT_NOT_OUTLINED"),
        ("dxf/ezdxf__recover01.dxf", "DXF_RECOVERED"),
        ("dxf/dxf2gcode__Teile_inch.dxf", "DXF_SUSPICIOUS_UNITS"),
        ("dxf/voron2__300_Deck_Panel.dxf", "DXF_OUTSIDE_BED"),
        ("dxf/prusa__MK3-front-plate.dxf", "DXF_NESTED_CONTOURS"),
        ("stl/trimesh__soup.stl", "STL_NOT_WATERTIGHT"),
        ("stl/admesh__block_normal-directions-bad.stl", "STL_INCONSISTENT_WINDING"),
        ("stl/trimesh__plate_holes.STL", "STL_TOO_LARGE_FOR_BED"),
    ],
)
def test_known_problems_are_found(name: str, code: str) -> None:
    assert code in validate_file(CORPUS / name).codes


@pytest.mark.parametrize(
    "name",
    [
        "dxf/voron0__Side_Panel.dxf",
        "dxf/prusa__MK3-front-plate.dxf",
        "stl/voron2__latch_x2.stl",
        "stl/beehive__nuc3_feed_tray.stl",
    ],
)
def test_good_real_files_pass(name: str) -> None:
    report = validate_file(CORPUS / name)
    assert report.ok, [f.code for f in report.errors]
