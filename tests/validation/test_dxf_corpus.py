"""Real third-party DXF files (/work/shared/corpus/dxf, never copied here): expectations derived from
the measured facts in FACTS.tsv (how ezdxf loads each file, its declared units, its extents)."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pytest

from fablabctl.validation.dxf import validate_dxf

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
FACTS = {
    row["file"]: row
    for row in csv.DictReader((CORPUS / "FACTS.tsv").open(encoding="utf-8"), delimiter="\t")
    if row["kind"] == "dxf"
}
logging.getLogger("ezdxf").setLevel(logging.CRITICAL)


def test_corpus_is_there() -> None:
    assert len(FACTS) >= 40


@pytest.mark.parametrize("name", sorted(FACTS))
def test_facts(name: str) -> None:
    row = FACTS[name]
    report = validate_dxf(CORPUS / name)  # never raises, whatever the file
    assert report.file_type == "dxf"
    if row["load"] == "failed":
        assert report.codes == {"DXF_UNREADABLE"}
        return
    assert "DXF_UNREADABLE" not in report.codes
    commas = "DXF_DECIMAL_COMMAS" in report.codes
    if commas:  # read with decimal points; FACTS measured ezdxf's recovery, which cut "2,5" to 2.0
        assert row["load"] == "recover" and "DXF_RECOVERED" not in report.codes
    else:
        assert ("DXF_RECOVERED" in report.codes) == (row["load"] == "recover")
    units = row["insunits"]
    if units in ("absent", "0"):
        assert "DXF_UNITLESS" in report.codes
    elif units == "4":
        assert not report.codes & {"DXF_UNITLESS", "DXF_UNITS_CONVERTED"}
    elif units.isdigit():
        converted = next(f for f in report.findings if f.code == "DXF_UNITS_CONVERTED")
        assert converted.location["insunits"] == int(units)
    if row["extents"] == "empty":
        assert "DXF_EMPTY" in report.codes
    size = report.metrics.get("size_mm")
    if size and units in ("absent", "0", "4") and not commas:
        # our extents cover only what is cut (no texts, no spline control points): never larger
        fx, fy = (float(v) for v in row["extents"].split("x"))
        assert size[0] <= fx + 0.01 and size[1] <= fy + 0.01


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("dxf/openscad__open-polyline.dxf", "DXF_OPEN_CONTOUR"),
        ("dxf/openscad__circle-double.dxf", "DXF_DUPLICATE_CONTOURS"),
        ("dxf/dxf2gcode__1997_simplified_doppelte_linien.dxf", "DXF_DUPLICATE_SEGMENTS"),
        ("dxf/kabeja__hatch_1.dxf", "DXF_UNSUPPORTED_ENTITY"),
        ("dxf/ezdxf__text_alignments.dxf", "DXF_TEXT_NOT_OUTLINED"),
        ("dxf/dxf2gcode__Teile_inch.dxf", "DXF_UNITS_CONVERTED"),
        ("dxf/voron2__300_Deck_Panel.dxf", "DXF_OUTSIDE_BED"),
        ("dxf/prusa__MK3-front-plate.dxf", "DXF_NESTED_CONTOURS"),
    ],
)
def test_known_problems(name: str, code: str) -> None:
    assert code in validate_dxf(CORPUS / name).codes


@pytest.mark.parametrize(
    "name",
    [
        "dxf/voron0__Side_Panel.dxf",
        "dxf/openscad__polygon-self-intersect.dxf",
        "dxf/openscad__far-out-shape.dxf",
    ],
)
def test_clean_parts_have_no_errors(name: str) -> None:
    report = validate_dxf(CORPUS / name)
    assert report.ok, [f.message.en for f in report.errors]


def test_free_endpoints_show_as_open_contours_only_where_they_cut() -> None:
    """lwpoly-bulge has 42 open polylines on layer 0 (cut by default): reported; the VisiCut rafter has
    412 free endpoints but all blue (score by colour): an open score line is fine."""
    assert "DXF_OPEN_CONTOUR" in validate_dxf(CORPUS / "dxf/dxf2gcode__lwpoly-bulge.dxf").codes
    visicut = validate_dxf(CORPUS / "dxf/visicut__HG1_Dachsparren.dxf")
    assert "DXF_OPEN_CONTOUR" not in visicut.codes and visicut.metrics["operations"] == ["score"]


def test_triangle_with_zero_length_line_is_closed() -> None:
    report = validate_dxf(CORPUS / "dxf/openscad__triangle-with-duplicate-vertex.dxf")
    assert "DXF_OPEN_CONTOUR" not in report.codes and report.metrics["closed_contours"] == 1
    assert "DXF_UNSUPPORTED_ENTITY" in report.codes  # the zero-length LINE is named, not lost
