"""A small Grbl laser G-code reader for the laser tests (what burns, every unsafe move), tested itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Burn:
    points: np.ndarray  # (n, 2) the path followed with the beam on
    s: int
    feed: float


@dataclass
class Parsed:
    burns: list[Burn] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    travels: int = 0
    lines: list[str] = field(default_factory=list)
    max_s: int = 0
    all_points: list[tuple[float, float]] = field(default_factory=list)


def parse(gcode: Path) -> Parsed:
    out = Parsed(lines=gcode.read_text().splitlines())
    s, feed, laser = 0, 0.0, False
    x = y = 0.0
    current: list[tuple[float, float]] = []

    def close() -> None:
        nonlocal current
        if len(current) > 1 and s > 0 and laser:
            out.burns.append(Burn(np.array(current), s, feed))
        current = []

    for number, raw in enumerate(out.lines, 1):
        line = raw.split(";")[0].strip()
        if not line:
            continue
        words = {w[0]: float(w[1:]) for w in line.split() if w[0] in "GMXYSF"}
        code = line.split()[0]
        if code in ("M3", "M4"):
            laser = True
            s = int(words.get("S", s))
        elif code == "M5":
            close()
            laser = False
        if code in ("G0", "G1"):
            if "S" in words and int(words["S"]) != s:
                close()
                s = int(words["S"])
            feed = words.get("F", feed)
            nx, ny = words.get("X", x), words.get("Y", y)
            out.max_s = max(out.max_s, s)
            if code == "G0":
                close()
                out.travels += 1
                if s != 0 and laser:
                    out.problems.append(f"line {number}: travel with S{s}")
            elif laser and s > 0:
                if not current:
                    current = [(x, y)]
                current.append((nx, ny))
            x, y = nx, ny
            out.all_points.append((x, y))
    close()
    if laser and s > 0:
        out.problems.append("laser left on at the end")
    return out


def test_reader_catches_what_the_laser_tests_rely_on(tmp_path: Path) -> None:
    """The reader itself must see a burning travel, a laser left on, and the burnt paths."""
    bad = tmp_path / "bad.nc"
    bad.write_text("G21 G90\nM4 S0\nG0 X1 Y1 S0\nG1 X5 Y1 F600 S800\nG1 X5 Y5\nG0 X9 Y9\nG1 X10 Y9 S300\n")
    job = parse(bad)
    assert job.problems == ["line 6: travel with S800", "laser left on at the end"]
    assert [(b.s, b.feed, b.points.tolist()) for b in job.burns] == [
        (800, 600.0, [[1, 1], [5, 1], [5, 5]]),
        (300, 600.0, [[9, 9], [10, 9]]),
    ]
    good = tmp_path / "good.nc"
    good.write_text("G21 G90\nM4 S0\nG0 X1 Y1 S0\nG1 X5 Y1 F600 S800\nG0 X0 Y0 S0\nM5\n")
    assert parse(good).problems == [] and parse(good).max_s == 800
