"""Data-driven DXF verdicts: every generated case (tests/validation/cases/dxf, made by make_cases.py)
gets exactly the codes its manifest lists, plus checks of what the messages and locations say."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import ezdxf
import pytest

from fablabctl.file_limits import ValidationLimits
from fablabctl.specs import DEFAULT_LASER, MachineSpec
from fablabctl.validation.dxf import validate_dxf
from fablabctl.validation.report import Report

CASES = Path(__file__).resolve().parent / "cases" / "dxf"
MANIFEST: dict[str, dict[str, Any]] = json.loads((CASES / "manifest.json").read_text())
logging.getLogger("ezdxf").setLevel(logging.CRITICAL)


def run(name: str, **kwargs: Any) -> Report:
    case = MANIFEST[name]
    limits = ValidationLimits(**case.get("limits", {}))
    return validate_dxf(CASES / case["file"], limits=limits, **kwargs)


def finding(report: Report, code: str) -> Any:
    return next(f for f in report.findings if f.code == code)


def test_every_dxf_code_has_a_case() -> None:
    covered = {code for case in MANIFEST.values() for code in case["codes"]}
    package = Path(validate_dxf.__code__.co_filename).parents[1]
    files = [*(package / "validation").glob("dxf*.py"), *(package / "geometry").glob("*.py")]
    emitted = set(re.findall(r'"(DXF_[A-Z_]+)"', "".join(p.read_text() for p in files)))
    assert emitted, "no codes found in the validator source"
    assert emitted <= covered, f"codes without a case: {sorted(emitted - covered)}"


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_case(name: str) -> None:
    report = run(name)
    case = MANIFEST[name]
    assert report.codes == set(case["codes"]), [f.message.en for f in report.findings]
    for key, value in case.get("metrics", {}).items():
        assert report.metrics[key] == value, key
    for f in report.findings:  # every message exists in both languages, and differs
        assert f.message.fr and f.message.en and f.message.fr != f.message.en
        json.dumps(f.to_dict("fr"))  # locations are plain data for the API


def test_open_contour_says_where_and_how_wide() -> None:
    f = finding(run("open_contour"), "DXF_OPEN_CONTOUR")
    assert f.location["gap_mm"] == pytest.approx(2.0)
    assert f.location["point"] == [0.0, 0.0] and f.location["end"] == [0.0, 2.0]
    assert f.location["layer"] == "CUT" and f.location["handle"] != "?"
    assert "2.00 mm" in f.message.fr and f.hint is not None


def test_inches_are_converted_and_said() -> None:
    report = run("inches")
    f = finding(report, "DXF_UNITS_CONVERTED")
    assert f.location["unit"] == "inch" and f.location["scale"] == 25.4
    assert report.metrics["units"] == "inch"


def test_unitless_imperial_warns_about_inches() -> None:
    f = finding(run("unitless_imperial"), "DXF_UNITLESS")
    assert "pouces" in f.message.fr and "inches" in f.message.en


def test_recursive_and_deep_blocks_are_told_apart() -> None:
    loop = finding(run("recursive_block"), "DXF_BLOCK_TOO_DEEP")
    assert loop.location["recursive"] is True and loop.location["block"] == "LOOP"
    assert "s'insère lui-même" in loop.message.fr
    deep = finding(run("deep_blocks"), "DXF_BLOCK_TOO_DEEP")
    assert deep.location["recursive"] is False
    shallow = validate_dxf(CASES / "deep_blocks.dxf", limits=ValidationLimits(max_block_depth=25))
    assert "DXF_BLOCK_TOO_DEEP" not in shallow.codes


def test_outside_bed_says_by_how_much_and_fits_lists_machines() -> None:
    report = run("too_big")
    f = finding(report, "DXF_OUTSIDE_BED")
    assert f.location["over_mm"] == [200.0, 300.0]
    big = MachineSpec("big-laser", "laser", "grbl", 1300, 900)
    both = validate_dxf(CASES / "too_big.dxf", machines=[DEFAULT_LASER, big])
    assert both.fits == ["big-laser"] and "DXF_OUTSIDE_BED" not in both.codes
    assert run("good_panel").fits == [DEFAULT_LASER.name]


def test_negative_coordinates_say_by_how_much() -> None:
    f = finding(run("negative"), "DXF_NEGATIVE_COORDINATES")
    assert f.location["by_mm"] == [20.0, 30.0]


def test_duplicates_name_both_entities() -> None:
    report = run("duplicate")
    f = finding(report, "DXF_DUPLICATE_CONTOURS")
    first, copy = f.location["handles"]
    assert first != copy
    assert finding(report, "DXF_DUPLICATE_SEGMENTS").location["count"] == 4
    overlap = finding(run("overlapping_lines"), "DXF_DUPLICATE_SEGMENTS")
    assert overlap.location["count"] == 1 and overlap.location["layer"] == "Marquage"


def test_not_a_dxf_says_what_it_is() -> None:
    assert "PNG" in finding(run("photo_png"), "DXF_NOT_DXF").message.en
    assert "SVG" in finding(run("drawing_svg"), "DXF_NOT_DXF").message.en
    assert "ZIP" in finding(run("archive_zip"), "DXF_NOT_DXF").message.fr


def test_recovered_file_lists_what_was_fixed() -> None:
    f = finding(run("recoverable"), "DXF_RECOVERED")
    assert f.location["fixes"], "the recovery notes are shown to the trainer"


def test_lengths_and_sheet_metrics() -> None:
    report = run("good_panel")
    assert report.metrics["length_mm"]["cut"] == pytest.approx(400 + 2 * 3.14159 * 10, abs=0.1)
    assert report.metrics["length_mm"]["engrave"] == pytest.approx(20)
    assert report.metrics["size_mm"] == [100.0, 100.0] and report.metrics["sheet_cm2"] == 100.0
    assert report.metrics["parts_area_cm2"] == pytest.approx(100 - 3.14159, abs=0.05)


def test_large_sheet_of_lines_is_chained(tmp_path: Path) -> None:
    """20k LINEs, four per part: every part is found closed (the speed is measured in bench/)."""
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = 4
    msp = doc.modelspace()
    for k in range(5000):
        x, y = (k % 70) * 5.5, (k // 70) * 4
        corners = [(x, y), (x + 4, y), (x + 4, y + 3), (x, y + 3)]
        for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
            msp.add_line(a, b)
    doc.saveas(tmp_path / "sheet.dxf")
    report = validate_dxf(tmp_path / "sheet.dxf")
    assert report.metrics["closed_contours"] == 5000 and report.metrics["entities"] == 20000
    assert "DXF_OPEN_CONTOUR" not in report.codes
