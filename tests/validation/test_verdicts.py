"""Verdicts that block only for a reason, agree with what preparation does, and never show server
internals: a turned-over face is a warning preparation fixes, an edge drawn twice is a duplicate
(not an open outline), decimal commas are read as numbers, and no message carries a path, a
Python exception or a stack trace."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import ezdxf
import pytest

from fablabctl.i18n import Text
from fablabctl.toolpath.mesh_stage import stage_stl
from fablabctl.toolpath.slicer import _slicer_reason
from fablabctl.validation.validate import validate_file
from tests.validation import cases

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
CASES = Path(__file__).resolve().parent / "cases" / "dxf"
PATH = re.compile(r"(?:^|[\s(«'\"])/(?:[\w.-]+/)+[\w.-]*")
INTERNALS = ("Error", "Traceback", "Exception", "could not convert", "aperçu", "preview")


@pytest.fixture(autouse=True)
def _quiet() -> None:
    logging.getLogger("ezdxf").setLevel(logging.ERROR)


def leaks(text: Text | str | None) -> list[str]:
    if text is None:
        return []
    both = [text.fr, text.en] if isinstance(text, Text) else [text]
    found = [word for t in both for word in INTERNALS if word in t]
    return found + [m.group(0) for t in both for m in PATH.finditer(t)]


def test_a_cube_with_one_face_turned_is_a_warning_that_preparation_fixes(tmp_path: Path) -> None:
    path = cases.mixed_winding(tmp_path / "mixed.stl")
    report = validate_file(path)
    finding = next(f for f in report.findings if f.code == "STL_INCONSISTENT_WINDING")
    assert report.ok and finding.severity.value == "warning" and "préparation" in finding.message.fr
    assert report.metrics["volume_mm3"] == pytest.approx(8000)  # measured as the slicer will see it
    assert "fix_winding" in stage_stl(path, tmp_path / "staged.stl")
    staged = validate_file(tmp_path / "staged.stl")
    assert staged.ok and not staged.warnings and staged.metrics["volume_mm3"] == pytest.approx(8000)


def test_an_inside_out_cube_is_a_warning_that_preparation_fixes(tmp_path: Path) -> None:
    path = cases.flipped_box(tmp_path / "flip.stl")
    report = validate_file(path)
    finding = next(f for f in report.findings if f.code == "STL_INVERTED_NORMALS")
    assert report.ok and finding.severity.value == "warning" and "préparation" in finding.message.fr
    assert "fix_inversion" in stage_stl(path, tmp_path / "staged.stl")
    assert validate_file(tmp_path / "staged.stl").codes == set()


def test_zero_normals_are_said_and_recomputed_before_slicing(tmp_path: Path) -> None:
    path = cases.stl_binary(tmp_path / "zero.stl", cases.box_triangles())  # writes 0 0 0 normals
    report = validate_file(path)
    assert report.ok and "STL_ZERO_NORMALS" in report.codes
    assert "recompute_normals" in stage_stl(path, tmp_path / "staged.stl")
    assert "STL_ZERO_NORMALS" not in validate_file(tmp_path / "staged.stl").codes


def test_a_rectangle_with_an_edge_drawn_twice_is_a_duplicate_not_an_open_outline(tmp_path: Path) -> None:
    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 4
    edges = [((0, 0), (50, 0)), ((50, 0), (50, 30)), ((50, 30), (0, 30)), ((0, 30), (0, 0))]
    for a, b in [*edges, ((50, 30), (50, 0))]:  # the right edge again, the other way
        doc.modelspace().add_line(a, b, dxfattribs={"layer": "CUT"})
    doc.saveas(tmp_path / "twice.dxf")
    report = validate_file(tmp_path / "twice.dxf")
    assert report.ok and "DXF_OPEN_CONTOUR" not in report.codes
    duplicate = next(f for f in report.findings if f.code == "DXF_DUPLICATE_SEGMENTS")
    assert duplicate.severity.value == "warning" and "qu'une fois" in duplicate.message.fr
    assert report.metrics["length_mm"]["cut"] == pytest.approx(160)  # each edge cut once


@pytest.mark.parametrize(
    "path",
    [CORPUS / "dxf" / "openscad__nothing-decimal-comma-separated.dxf", CASES / "decimal_commas.dxf"],
    ids=["openscad", "case"],
)
def test_decimal_commas_are_read_as_numbers(path: Path) -> None:
    report = validate_file(path)
    assert "DXF_DECIMAL_COMMAS" in report.codes and "DXF_RECOVERED" not in report.codes
    assert report.metrics["size_mm"] == [2.5, 2.5] and report.metrics["closed_contours"] == 1
    for finding in report.findings:
        assert not leaks(finding.message) and not leaks(finding.hint), finding


@pytest.mark.parametrize(
    "name",
    sorted(p.relative_to(CORPUS).as_posix() for p in CORPUS.glob("*/*") if p.suffix.lower() != ".tsv"),
)
def test_no_message_shows_a_path_an_exception_or_a_trace(name: str) -> None:
    report = validate_file(CORPUS / name)
    for finding in report.findings:
        assert not leaks(finding.message), (finding.code, finding.message.en)
        assert not leaks(finding.hint), (finding.code, finding.hint)


def test_slicer_failures_are_said_in_words_not_in_its_output() -> None:
    raw = "[error] /var/lib/fablabctl/cache/slices/0f3a.stl: Objects could not be sliced. Error: empty"
    for text in _slicer_reason(raw):
        assert not leaks(text)
