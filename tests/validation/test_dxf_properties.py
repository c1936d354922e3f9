"""Hostile input never crashes or hangs DXF validation: random bytes, and random truncations and
corruptions of real DXF files, always give a Report with codes (bounded examples, no deadline)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fablabctl.validation.dxf import validate_dxf
from fablabctl.validation.report import Report

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "dxf"
SOURCES = [CORPUS / "voron0__Side_Panel.dxf", CORPUS / "dxf2gcode__lwpoly-bulge.dxf"]
SOURCES += [Path(__file__).resolve().parent / "cases" / "dxf" / n for n in ("finger_panel.dxf", "binary.dxf")]
logging.getLogger("ezdxf").setLevel(logging.CRITICAL)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def check(report: Report) -> None:
    assert report.file_type == "dxf"
    for finding in report.findings:
        assert finding.code.startswith("DXF_") and finding.message.fr and finding.message.en


@SETTINGS
@given(data=st.binary(max_size=4096))
def test_random_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes") / "random.dxf"
    path.write_bytes(data)
    check(validate_dxf(path))


@SETTINGS
@given(
    source=st.sampled_from(SOURCES),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.integers(0, 10**6), max_size=8),
)
def test_truncated_and_corrupted_real_files(
    tmp_path_factory: pytest.TempPathFactory, source: Path, cut: float, flips: list[int]
) -> None:
    data = bytearray(source.read_bytes())
    data = data[: int(len(data) * cut)]
    for position in flips:  # overwrite a few bytes with digits and newlines, which parse as DXF tags
        if data:
            data[position % len(data)] = b"0\n9-.e"[position % 6]
    path = tmp_path_factory.mktemp("cut") / source.name
    path.write_bytes(bytes(data))
    check(validate_dxf(path))
