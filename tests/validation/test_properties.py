"""Untrusted bytes never crash the validators: random content and random truncations of real files."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fablabctl.validation.report import Report
from fablabctl.validation.validate import validate_file

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
SAMPLES = [
    (CORPUS / "stl/voron2__latch_x2.stl").read_bytes(),
    (CORPUS / "stl/beehive__nuc_frame.stl").read_bytes(),
    (CORPUS / "dxf/voron2__300_Deck_Panel.dxf").read_bytes(),
    (CORPUS / "dxf/dxf2gcode__lwpoly-bulge.dxf").read_bytes(),
    b"G21 G90\nM4 S0\nG1 X10 Y10 S500 F1000\nM5\n",
]
logging.getLogger("ezdxf").setLevel(logging.CRITICAL)


def run(data: bytes, suffix: str) -> Report:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        return validate_file(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".stl", ".dxf", ".gcode"]))
def test_random_bytes(data: bytes, suffix: str) -> None:
    report = run(data, suffix)
    assert isinstance(report, Report)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(index=st.integers(0, len(SAMPLES) - 1), cut=st.floats(0, 1), flip=st.integers(0, 255))
def test_truncated_or_corrupted_real_files(index: int, cut: float, flip: int) -> None:
    data = bytearray(SAMPLES[index][: int(len(SAMPLES[index]) * cut)])
    if data:
        data[len(data) // 2] ^= flip
    report = run(bytes(data), ".bin")
    assert isinstance(report, Report)
    assert report.findings or report.ok
