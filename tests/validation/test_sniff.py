"""File sniffing: what a file is, from its bytes (random noise is never taken for G-code)."""

from __future__ import annotations

import random
from pathlib import Path

from fablabctl.validation.sniff import detect_type


def test_random_bytes_are_never_taken_for_gcode(tmp_path: Path) -> None:
    rng = random.Random(7)
    path = tmp_path / "bruit.stl"
    seen = set()
    for _ in range(200):  # about one in seven 64 KiB heads has a line starting like `G1`
        path.write_bytes(rng.randbytes(70_000))
        seen.add(detect_type(path))
    assert "gcode" not in seen, seen


def test_gcode_with_french_comments_is_gcode(tmp_path: Path) -> None:
    path = tmp_path / "piece.gcode"
    path.write_text("; pièce réalisée à l'atelier, première couche\nG28\nM104 S200\nG1 X10 Y10 F3000\n")
    assert detect_type(path) == "gcode"
