"""Structure-aware fuzzing of the readers: inputs that *look* right (a binary STL whose count matches,
ASCII STL, DXF tag pairs, G-code words) with hostile numbers (NaN, inf, 1e308, -0, huge counts) and
broken nesting. Random bytes and truncations are in test_properties.py / test_dxf_properties.py;
these reach deeper, past the type sniffing and the first syntax checks.

Each file must give a Report whose findings all carry a code and both languages, within a time
limit (a hang fails the test, it does not stall CI). Bounded: ~60 examples per reader.
"""

from __future__ import annotations

import logging
import math
import signal
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fablabctl.file_limits import ValidationLimits
from fablabctl.specs import MachineSpec
from fablabctl.validation.report import Report
from fablabctl.validation.validate import validate_file

logging.getLogger("ezdxf").setLevel(logging.CRITICAL)
PER_FILE_S = 20
MACHINES = [
    MachineSpec("printer", "printer", "marlin", 250, 210, 210),
    MachineSpec("laser", "laser", "grbl", 400, 300, laser_s_max=1000, laser_max_power_s=800),
]
LIMITS = ValidationLimits(max_file_bytes=4 * 1024 * 1024, max_triangles=20_000, max_dxf_entities=5_000)
SETTINGS = settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))

HOSTILE = st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, -0.0, 5e-324, 1e-45, 3.4e38])
NUMBER = st.one_of(st.floats(-1e4, 1e4, allow_nan=False), HOSTILE, st.integers(-(10**30), 10**30))


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def expired(_sig: int, _frame: object) -> None:
        raise TimeoutError(f"validation took more than {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check(data: bytes, suffix: str) -> Report:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"fuzz{suffix}"
        path.write_bytes(data)
        with time_limit(PER_FILE_S):
            report = validate_file(path, machines=MACHINES, limits=LIMITS)
    assert isinstance(report, Report)
    for finding in report.findings:
        assert finding.code and finding.code.upper() == finding.code, finding
        assert finding.message.fr and finding.message.en, finding.code
    report.to_dict("fr")  # serialisable as the API sends it
    return report


def _f32(value: float | int) -> float:
    try:
        packed = struct.pack("<f", float(value))
    except OverflowError:
        packed = struct.pack("<f", math.inf if float(value) > 0 else -math.inf)
    return float(struct.unpack("<f", packed)[0])


@SETTINGS
@given(
    triangles=st.lists(st.lists(NUMBER, min_size=12, max_size=12), max_size=40),
    attribute=st.integers(0, 0xFFFF),
    count_delta=st.sampled_from([0, 0, 0, 1, -1, 2**31, 2**32 - 1]),
)
def test_binary_stl_with_hostile_numbers(
    triangles: list[list[float]], attribute: int, count_delta: int
) -> None:
    count = (len(triangles) + count_delta) % 2**32
    body = b"".join(struct.pack("<12fH", *(_f32(v) for v in t), attribute) for t in triangles)
    check(b"\0" * 80 + struct.pack("<I", count) + body, ".stl")


def _ascii_facet(values: list[object], broken: int) -> str:
    numbers = [repr(v) if not isinstance(v, float) or math.isfinite(v) else str(v) for v in values]
    lines = [
        f"facet normal {' '.join(numbers[0:3])}",
        "outer loop",
        f"vertex {' '.join(numbers[3:6])}",
        f"vertex {' '.join(numbers[6:9])}",
        f"vertex {' '.join(numbers[9:12])}",
        "endloop",
        "endfacet",
    ]
    if broken:
        del lines[broken % len(lines)]
    return "\n".join(lines)


@SETTINGS
@given(
    facets=st.lists(
        st.tuples(st.lists(NUMBER, min_size=12, max_size=12), st.integers(0, 12)), min_size=1, max_size=30
    ),
    name=st.text(max_size=20),
    end=st.booleans(),
)
def test_ascii_stl_with_hostile_numbers_and_broken_nesting(
    facets: list[tuple[list[float], int]], name: str, end: bool
) -> None:
    text = f"solid {name}\n" + "\n".join(_ascii_facet(v, b if b > 6 else 0) for v, b in facets)
    check((text + ("\nendsolid\n" if end else "\n")).encode("utf-8", "replace"), ".stl")


ENTITY = st.sampled_from(
    ["LINE", "CIRCLE", "ARC", "LWPOLYLINE", "SPLINE", "ELLIPSE", "INSERT", "POINT", "TEXT"]
)
CODES = st.sampled_from([8, 10, 20, 11, 21, 40, 41, 42, 50, 51, 62, 70, 71, 72, 73, 90, 2, 5])


@SETTINGS
@given(
    entities=st.lists(
        st.tuples(ENTITY, st.lists(st.tuples(CODES, NUMBER), max_size=14)), min_size=1, max_size=25
    ),
    close=st.booleans(),
)
def test_dxf_tag_pairs_with_hostile_values(
    entities: list[tuple[str, list[tuple[int, float]]]], close: bool
) -> None:
    lines = ["0", "SECTION", "2", "ENTITIES"]
    for kind, tags in entities:
        lines += ["0", kind, "8", "cut"]
        for code, value in tags:
            lines += [str(code), "cut" if code in (2, 5, 8) else str(value)]
    if close:
        lines += ["0", "ENDSEC", "0", "EOF"]
    check(("\n".join(lines) + "\n").encode(), ".dxf")


WORD = st.tuples(st.sampled_from(list("GMXYZIJKRFSPNET")), NUMBER)
LINE = st.one_of(
    st.lists(WORD, min_size=1, max_size=6).map(lambda ws: " ".join(f"{w}{v}" for w, v in ws)),
    st.sampled_from(["G21", "G90", "G91", "M3 S1000", "M4 S0", "M5", "M8", "$H", "%", "(commentaire", ";x"]),
    st.text(max_size=30).map(lambda t: t.replace("\n", " ")),
)


@SETTINGS
@given(lines=st.lists(LINE, min_size=1, max_size=60), header=st.sampled_from(["", "G21 G90\n", "M4 S0\n"]))
def test_gcode_words_with_hostile_numbers(lines: list[str], header: str) -> None:
    check((header + "G1 X1 Y1 F1000\n" + "\n".join(lines) + "\n").encode("utf-8", "replace"), ".gcode")
