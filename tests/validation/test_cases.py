"""Data-driven: every generated broken or hostile file gets exactly the verdict a trainer would give."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fablabctl.specs import DEFAULT_LASER, DEFAULT_PRINTER
from fablabctl.validation.validate import unreadable, validate_file
from tests.validation import cases

Case = tuple[Callable[[Path], Path], str, set[str], set[str]]

# (generator, file name, codes that must appear, codes that must not)
CASES: dict[str, Case] = {
    "good box": (cases.stl_box, "box.stl", set(), {"STL_NOT_WATERTIGHT", "STL_INVERTED_NORMALS"}),
    "open box": (cases.open_box, "open.stl", {"STL_NOT_WATERTIGHT"}, set()),
    "inside out": (cases.flipped_box, "flip.stl", {"STL_INVERTED_NORMALS"}, {"STL_NOT_WATERTIGHT"}),
    "mixed winding": (cases.mixed_winding, "mixed.stl", {"STL_INCONSISTENT_WINDING"}, set()),
    "nan": (cases.nan_box, "nan.stl", {"STL_NON_FINITE"}, set()),
    "degenerate+dup": (
        cases.degenerate_and_duplicate,
        "dd.stl",
        {"STL_DEGENERATE_FACES", "STL_DUPLICATE_FACES"},
        set(),
    ),
    "two bodies": (cases.two_bodies, "two.stl", {"STL_MULTIPLE_BODIES"}, {"STL_NOT_WATERTIGHT"}),
    "too big": (cases.huge_part, "huge.stl", {"STL_TOO_LARGE_FOR_BED"}, set()),
    "diagonal": (cases.diagonal_part, "diag.stl", {"STL_NEEDS_ROTATION"}, {"STL_TOO_LARGE_FOR_BED"}),
    "laid down": (cases.tall_part, "tall.stl", {"STL_NEEDS_ROTATION"}, {"STL_TOO_LARGE_FOR_BED"}),
    "tiny (cm)": (cases.tiny_part, "tiny.stl", {"STL_SUSPICIOUS_UNITS"}, set()),
    "thin wall": (cases.thin_wall, "thin.stl", {"STL_THIN_WALLS"}, set()),
    "overhang": (cases.overhang, "t.stl", {"STL_OVERHANGS"}, set()),
    "4e9 triangles claimed": (cases.truncated_claiming_billions, "lie.stl", {"STL_TRUNCATED"}, set()),
    "ascii bad number": (cases.ascii_broken, "bad.stl", {"STL_PARSE_ERROR"}, set()),
    "ascii truncated": (cases.ascii_truncated, "cut.stl", {"STL_TRUNCATED"}, set()),
    "png renamed": (cases.png_renamed, "photo.stl", {"FILE_TYPE_UNSUPPORTED"}, set()),
    "zip renamed": (cases.zip_renamed, "archive.stl", {"FILE_TYPE_UNSUPPORTED"}, set()),
    "latin-1 text": (cases.latin1_text, "notes.dxf", {"FILE_TYPE_UNSUPPORTED"}, set()),
    "empty": (cases.empty, "empty.stl", {"FILE_EMPTY"}, set()),
    "good panel": (
        cases.dxf_good_panel,
        "panel.dxf",
        {"DXF_NESTED_CONTOURS"},
        {"DXF_OPEN_CONTOUR", "DXF_UNITLESS"},
    ),
    "open contour": (cases.dxf_open_contour, "open.dxf", {"DXF_OPEN_CONTOUR"}, set()),
    "lines chained": (cases.dxf_lines_closed, "lines.dxf", set(), {"DXF_OPEN_CONTOUR"}),
    "text": (cases.dxf_text, "text.dxf", {"DXF_TEXT_NOT_OUTLINED"}, set()),
    "self-inserting block": (cases.dxf_recursive_block, "loop.dxf", {"DXF_BLOCK_TOO_DEEP"}, set()),
    "inches": (cases.dxf_inches, "inch.dxf", {"DXF_UNITS_CONVERTED"}, {"DXF_OUTSIDE_BED"}),
    "unitless": (cases.dxf_unitless, "nounit.dxf", {"DXF_UNITLESS"}, set()),
    "duplicate": (cases.dxf_duplicate, "dup.dxf", {"DXF_DUPLICATE_SEGMENTS"}, set()),
    "too big sheet": (cases.dxf_too_big, "big.dxf", {"DXF_OUTSIDE_BED"}, set()),
    "hatch": (cases.dxf_hatch, "hatch.dxf", {"DXF_UNSUPPORTED_ENTITY"}, set()),
    "negative": (cases.dxf_negative, "neg.dxf", {"DXF_NEGATIVE_COORDINATES"}, set()),
    "empty drawing": (cases.dxf_empty, "none.dxf", {"DXF_EMPTY"}, set()),
    "curves": (
        cases.dxf_arcs_and_bulges,
        "curves.dxf",
        set(),
        {"DXF_OPEN_CONTOUR", "DXF_UNSUPPORTED_ENTITY"},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_case(name: str, tmp_path: Path) -> None:
    make, filename, must, must_not = CASES[name]
    report = validate_file(make(tmp_path / filename), machines=[DEFAULT_PRINTER, DEFAULT_LASER])
    assert must <= report.codes, (name, report.codes)
    assert not (must_not & report.codes), (name, report.codes)
    for finding in report.findings:  # every message exists in both languages
        assert finding.message.fr and finding.message.en and finding.message.fr != finding.message.en


def test_binary_header_lie_is_refused_before_allocating(tmp_path: Path) -> None:
    report = validate_file(cases.truncated_claiming_billions(tmp_path / "lie.stl"))
    finding = next(f for f in report.findings if f.code == "STL_TRUNCATED")
    assert finding.location["declared"] == 4_000_000_000
    assert finding.location["available"] == 2
    assert unreadable(report)


def test_ascii_error_points_to_the_line(tmp_path: Path) -> None:
    report = validate_file(cases.ascii_broken(tmp_path / "bad.stl"))
    assert report.findings[0].location == {"line": 4}


def test_open_contour_gives_gap_and_place(tmp_path: Path) -> None:
    report = validate_file(cases.dxf_open_contour(tmp_path / "open.dxf"))
    finding = next(f for f in report.findings if f.code == "DXF_OPEN_CONTOUR")
    assert finding.location["gap_mm"] == pytest.approx(2.0)
    assert finding.location["layer"] == "CUT"
    assert finding.location["handle"]


def test_inches_are_converted(tmp_path: Path) -> None:
    report = validate_file(cases.dxf_inches(tmp_path / "inch.dxf"))
    assert report.metrics["size_mm"] == pytest.approx([101.6, 101.6])


def test_cut_length_and_holes(tmp_path: Path) -> None:
    report = validate_file(cases.dxf_good_panel(tmp_path / "panel.dxf"))
    assert report.metrics["holes"] == 1
    assert report.metrics["length_mm"]["cut"] == pytest.approx(400 + 2 * 3.14159 * 10, rel=1e-3)
    assert report.metrics["length_mm"]["engrave"] == pytest.approx(20)


def test_bed_fit_names_the_machines(tmp_path: Path) -> None:
    from fablabctl.specs import MachineSpec

    small = MachineSpec(
        name="mini", kind="printer", driver="marlin", bed_x_mm=120, bed_y_mm=120, bed_z_mm=120
    )
    report = validate_file(
        cases.stl_box(tmp_path / "b.stl", (150, 20, 20)), machines=[small, DEFAULT_PRINTER]
    )
    assert report.fits == [DEFAULT_PRINTER.name]
    assert report.ok


def test_metrics_of_a_cube(tmp_path: Path) -> None:
    report = validate_file(cases.stl_box(tmp_path / "b.stl", (20, 20, 20)))
    assert report.metrics["volume_mm3"] == pytest.approx(8000)
    assert report.metrics["size_mm"] == [20, 20, 20]
    assert report.metrics["triangles"] == 12
    assert report.ok and not report.findings
