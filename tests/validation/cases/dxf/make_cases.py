"""Generate the DXF validation cases and their manifest (expected codes). Outputs are committed.

Run from the repository root:  .venv/bin/python tests/validation/cases/dxf/make_cases.py
Each case is one small file built with ezdxf (or raw bytes for files that are not DXF at all), and one
manifest entry: `codes` = the exact set of finding codes `validate_dxf` must return, optional
`limits` overrides, and optional `metrics` the report must contain.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ezdxf
from ezdxf.document import Drawing

HERE = Path(__file__).resolve().parent
MM, INCH, CM = 4, 1, 5


def doc(units: int | None = MM, measurement: int | None = None) -> Drawing:
    d = ezdxf.new("R2010")
    if units is None:
        del d.header["$INSUNITS"]
    else:
        d.header["$INSUNITS"] = units
    if measurement is not None:
        d.header["$MEASUREMENT"] = measurement
    d.layers.add("CUT", color=1)
    d.layers.add("GRAVURE", color=3)
    d.layers.add("Marquage", color=5)
    d.layers.add("construction", color=8)
    return d


def square(layout: Any, x: float, y: float, size: float, layer: str = "CUT") -> None:
    layout.add_lwpolyline(
        [(x, y), (x + size, y), (x + size, y + size), (x, y + size)], close=True, dxfattribs={"layer": layer}
    )


def good_panel(d: Drawing) -> None:
    """A 100 mm panel with a round hole and a small engraved square."""
    msp = d.modelspace()
    square(msp, 10, 10, 100)
    msp.add_circle((60, 60), 10, dxfattribs={"layer": "CUT"})
    square(msp, 25, 25, 5, layer="GRAVURE")


def finger_panel(d: Drawing) -> None:
    """A finger-jointed beehive side (as LINEs, the way many generators export), two holes, a part
    in a hole (a round token cut out of the entrance), and a score line for the name."""
    msp = d.modelspace()
    fingers, width, depth, height = 5, 150.0, 3.0, 120.0
    step = width / (2 * fingers)
    points: list[tuple[float, float]] = []
    for k in range(2 * fingers):
        y = 0.0 if k % 2 == 0 else depth
        points += [(k * step, y), ((k + 1) * step, y)]
    points += [(width, height), (0.0, height)]
    for a, b in zip(points, [*points[1:], points[0]], strict=True):
        msp.add_line(a, b, dxfattribs={"layer": "CUT"})
    msp.add_circle((75, 60), 20, dxfattribs={"layer": "CUT"})  # entrance
    msp.add_circle((75, 60), 8, dxfattribs={"layer": "CUT"})  # token inside it
    msp.add_lwpolyline(
        [(20, 90, 0, 0, 0.5), (40, 90, 0, 0, 0), (40, 105), (20, 105)],
        format="xyseb",
        close=True,
        dxfattribs={"layer": "CUT"},
    )
    msp.add_line((20, 20), (130, 20), dxfattribs={"layer": "Marquage"})


def open_contour(d: Drawing) -> None:
    d.modelspace().add_lwpolyline(
        [(0, 0), (100, 0), (100, 100), (0, 100), (0, 2)], dxfattribs={"layer": "CUT"}
    )


def lines_chained(d: Drawing) -> None:
    """A square of four LINEs in shuffled directions, one end 0.004 mm off: closed once chained."""
    for a, b in (((0, 0), (50, 0)), ((50, 50), (50, 0)), ((50, 50), (0, 50)), ((0.004, 0), (0, 50))):
        d.modelspace().add_line(a, b, dxfattribs={"layer": "CUT"})


def text(d: Drawing) -> None:
    square(d.modelspace(), 0, 0, 100)
    d.modelspace().add_text("Ruche", dxfattribs={"layer": "GRAVURE", "height": 10}).set_placement((20, 20))


def mtext(d: Drawing) -> None:
    square(d.modelspace(), 0, 0, 100)
    d.modelspace().add_mtext("Hôtel à insectes", dxfattribs={"layer": "GRAVURE", "char_height": 8})


def recursive_block(d: Drawing) -> None:
    block = d.blocks.new("LOOP")
    square(block, 0, 0, 10)
    block.add_blockref("LOOP", (20, 0))
    d.modelspace().add_blockref("LOOP", (0, 0))


def deep_blocks(d: Drawing) -> None:
    """20 blocks each inserting the next: deeper than the 16 levels allowed."""
    for level in range(20):
        block = d.blocks.new(f"B{level}")
        square(block, 0, 0, 5)
        if level < 19:
            block.add_blockref(f"B{level + 1}", (0, 0))
    d.modelspace().add_blockref("B0", (0, 0))


def block_array(d: Drawing) -> None:
    """A MINSERT 3 x 2 of a square, plus one INSERT scaled x2 and turned 90°: 7 closed parts."""
    block = d.blocks.new("PART")
    square(block, 0, 0, 20, layer="0")  # layer 0 inside a block takes the INSERT's layer
    grid = d.modelspace().add_blockref("PART", (10, 10), dxfattribs={"layer": "CUT"})
    grid.grid(size=(2, 3), spacing=(30, 30))
    d.modelspace().add_blockref(
        "PART", (200, 10), dxfattribs={"layer": "CUT", "xscale": 2, "yscale": 2, "rotation": 90}
    )


def inches(d: Drawing) -> None:
    square(d.modelspace(), 0, 0, 4)  # 101.6 mm


def centimetres(d: Drawing) -> None:
    square(d.modelspace(), 0, 0, 10)  # 100 mm


def duplicate(d: Drawing) -> None:
    square(d.modelspace(), 0, 0, 50)
    square(d.modelspace(), 0, 0, 50)


def overlapping_lines(d: Drawing) -> None:
    """Two score lines on the same line, overlapping by 25 mm; a clean part elsewhere."""
    msp = d.modelspace()
    msp.add_line((0, 0), (50, 0), dxfattribs={"layer": "Marquage"})
    msp.add_line((75, 0), (25, 0), dxfattribs={"layer": "Marquage"})
    square(msp, 0, 20, 40)


def too_big(d: Drawing) -> None:
    square(d.modelspace(), 0, 0, 600)


def suspicious_units(d: Drawing) -> None:
    """A 150 mm part drawn in µm but declared mm: 150 000 'mm'."""
    square(d.modelspace(), 0, 0, 150_000)


def negative(d: Drawing) -> None:
    square(d.modelspace(), -20, -30, 50)


def beyond_bed(d: Drawing) -> None:
    square(d.modelspace(), 1000, 1000, 50)


def needs_rotation(d: Drawing) -> None:
    msp = d.modelspace()
    msp.add_lwpolyline([(0, 0), (280, 0), (280, 390), (0, 390)], close=True, dxfattribs={"layer": "CUT"})


def hatch_on_cut(d: Drawing) -> None:
    square(d.modelspace(), 0, 0, 50)
    hatch = d.modelspace().add_hatch(dxfattribs={"layer": "CUT"})
    hatch.paths.add_polyline_path([(10, 10), (20, 10), (20, 20)], is_closed=True)


def hatch_on_engrave(d: Drawing) -> None:
    square(d.modelspace(), 0, 0, 50)
    hatch = d.modelspace().add_hatch(dxfattribs={"layer": "GRAVURE"})
    hatch.paths.add_polyline_path([(10, 10), (30, 10), (30, 30), (10, 30)], is_closed=True)
    hatch.paths.add_polyline_path([(15, 15), (25, 15), (25, 25), (15, 25)], is_closed=True)  # island


def mesh(d: Drawing) -> None:
    square(d.modelspace(), 0, 0, 50)
    m = d.modelspace().add_mesh(dxfattribs={"layer": "CUT"})
    with m.edit_data() as data:
        data.vertices = [(0, 0, 0), (10, 0, 0), (10, 10, 0), (0, 10, 0)]
        data.faces = [(0, 1, 2, 3)]


def empty(d: Drawing) -> None:
    """Nothing in modelspace."""


def only_construction(d: Drawing) -> None:
    square(d.modelspace(), 0, 0, 50, layer="construction")
    d.modelspace().add_line((0, 0), (10, 10), dxfattribs={"layer": "Defpoints"})


def tiny_segments(d: Drawing) -> None:
    d.modelspace().add_lwpolyline(
        [(0, 0), (50, 0), (50, 0.02), (50, 50), (0, 50)], close=True, dxfattribs={"layer": "CUT"}
    )


def curves(d: Drawing) -> None:
    """A rounded slot (LWPOLYLINE bulges), a full ellipse, a closed spline, an arc-and-line D shape."""
    msp = d.modelspace()
    msp.add_lwpolyline([(0, 0, 0, 0, 1), (40, 0, 0, 0, 1)], format="xyseb", close=True)
    msp.add_ellipse((100, 50), major_axis=(20, 0), ratio=0.5)
    msp.add_spline([(150, 0), (170, 30), (190, 0), (170, -30)]).closed = True
    msp.add_arc((60, 120), 20, 0, 180)
    msp.add_line((40, 120), (80, 120))
    for entity in msp:
        entity.dxf.layer = "CUT"
    square(msp, -10, -40, 220)  # a sheet around them: they are holes


def colours(d: Drawing) -> None:
    """Layer 0 everywhere: red square cut, blue open line scored (not an open cut), green engraved."""
    msp = d.modelspace()
    msp.add_lwpolyline([(0, 0), (80, 0), (80, 80), (0, 80)], close=True, dxfattribs={"color": 1})
    msp.add_line((10, 10), (70, 10), dxfattribs={"color": 5})
    msp.add_circle((40, 40), 5, dxfattribs={"color": 3})


def many_entities(d: Drawing) -> None:
    for k in range(30):
        square(d.modelspace(), k * 10, 0, 5)


def binary(d: Drawing) -> None:
    good_panel(d)


Builder = Callable[[Drawing], None]
# name -> (builder, units, measurement, exact codes, extras for the manifest)
CASES: dict[str, tuple[Builder, int | None, int | None, set[str], dict[str, Any]]] = {
    "good_panel": (good_panel, MM, None, {"DXF_NESTED_CONTOURS"}, {"metrics": {"holes": 1, "contours": 3}}),
    "finger_panel": (
        finger_panel,
        MM,
        None,
        {"DXF_NESTED_CONTOURS"},
        {"metrics": {"holes": 2, "parts": 2, "open_cut_contours": 0}},
    ),
    "open_contour": (open_contour, MM, None, {"DXF_OPEN_CONTOUR"}, {}),
    "lines_chained": (lines_chained, MM, None, set(), {"metrics": {"closed_contours": 1}}),
    "text": (text, MM, None, {"DXF_TEXT_NOT_OUTLINED"}, {}),
    "mtext": (mtext, MM, None, {"DXF_TEXT_NOT_OUTLINED"}, {}),
    "recursive_block": (recursive_block, MM, None, {"DXF_BLOCK_TOO_DEEP"}, {}),
    "deep_blocks": (
        deep_blocks,
        MM,
        None,
        {"DXF_BLOCK_TOO_DEEP", "DXF_DUPLICATE_CONTOURS", "DXF_DUPLICATE_SEGMENTS"},
        {},
    ),
    "block_array": (block_array, MM, None, set(), {"metrics": {"closed_contours": 7}}),
    "inches": (inches, INCH, None, {"DXF_UNITS_CONVERTED"}, {"metrics": {"size_mm": [101.6, 101.6]}}),
    "centimetres": (centimetres, CM, None, {"DXF_UNITS_CONVERTED"}, {"metrics": {"size_mm": [100.0, 100.0]}}),
    "unitless": (inches, None, None, {"DXF_UNITLESS"}, {"metrics": {"size_mm": [4.0, 4.0]}}),
    "unitless_imperial": (good_panel, None, 0, {"DXF_UNITLESS", "DXF_NESTED_CONTOURS"}, {}),
    "duplicate": (duplicate, MM, None, {"DXF_DUPLICATE_SEGMENTS", "DXF_DUPLICATE_CONTOURS"}, {}),
    "overlapping_lines": (overlapping_lines, MM, None, {"DXF_DUPLICATE_SEGMENTS"}, {}),
    "too_big": (too_big, MM, None, {"DXF_OUTSIDE_BED"}, {}),
    "suspicious_units": (suspicious_units, MM, None, {"DXF_OUTSIDE_BED", "DXF_SUSPICIOUS_UNITS"}, {}),
    "negative": (negative, MM, None, {"DXF_NEGATIVE_COORDINATES"}, {}),
    "beyond_bed": (beyond_bed, MM, None, {"DXF_BEYOND_BED"}, {}),
    "needs_rotation": (needs_rotation, MM, None, {"DXF_ROTATED"}, {}),
    "hatch_on_cut": (hatch_on_cut, MM, None, {"DXF_UNSUPPORTED_ENTITY"}, {}),
    "hatch_on_engrave": (hatch_on_engrave, MM, None, {"DXF_FILL_ENGRAVED"}, {}),
    "mesh": (mesh, MM, None, {"DXF_UNSUPPORTED_ENTITY"}, {}),
    "empty": (empty, MM, None, {"DXF_EMPTY"}, {}),
    "only_construction": (only_construction, MM, None, {"DXF_EMPTY"}, {}),
    "tiny_segments": (tiny_segments, MM, None, {"DXF_TINY_SEGMENTS"}, {}),
    "curves": (
        curves,
        MM,
        None,
        {"DXF_NESTED_CONTOURS", "DXF_NEGATIVE_COORDINATES"},
        {"metrics": {"holes": 4, "closed_contours": 5}},
    ),
    "colours": (colours, MM, None, set(), {"metrics": {"operations": ["cut", "engrave", "score"]}}),
    "many_entities": (
        many_entities,
        MM,
        None,
        {"DXF_TOO_MANY_ENTITIES"},
        {"limits": {"max_dxf_entities": 10}},
    ),
}
RAW: dict[str, tuple[bytes, set[str]]] = {
    "photo_png": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, {"DXF_NOT_DXF"}),
    "drawing_svg": (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>\n',
        {"DXF_NOT_DXF"},
    ),
    "garbage": (bytes((i * 7919) % 251 for i in range(3000)), {"DXF_NOT_DXF"}),
    "latin1_notes": ("Découpe du panneau : côté gauche\n".encode("latin-1"), {"DXF_NOT_DXF"}),
    "missing_endsec": (
        b"0\nSECTION\n2\nENTITIES\n0\nLINE\n10\n1.0\n",
        {"DXF_RECOVERED", "DXF_UNITLESS", "DXF_EMPTY"},
    ),
    "decimal_commas": (  # some exporters in French locales write "2,5": a 2.5 mm square, read as such
        b"0\nSECTION\n2\nHEADER\n9\n$INSUNITS\n70\n4\n0\nENDSEC\n0\nSECTION\n2\nENTITIES\n"
        + b"".join(
            b"0\nLINE\n8\nCUT\n10\n%s\n20\n%s\n30\n0\n11\n%s\n21\n%s\n31\n0\n" % (a + b)
            for a, b in (
                ((b"0", b"0"), (b"2,5", b"0")),
                ((b"2,5", b"0"), (b"2,5", b"2,5")),
                ((b"2,5", b"2,5"), (b"0", b"2,5")),
                ((b"0", b"2,5"), (b"0", b"0")),
            )
        )
        + b"0\nENDSEC\n0\nEOF\n",
        {"DXF_DECIMAL_COMMAS"},
    ),
    "bad_tag": (
        b"0\nSECTION\n2\nHEADER\n9\n$ACADVER\n1\nAC1015\n0\nENDSEC\n0\nSECTION\n2\nENTITIES\n"
        b"0\nLWPOLYLINE\n90\nabc\n0\nENDSEC\n0\nEOF\n",
        {"DXF_UNREADABLE"},
    ),
}


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("panel.dxf", "0\nEOF\n")
    return buffer.getvalue()


def _recoverable() -> bytes:
    """A valid R12 drawing whose LINE has a float where an integer group code is expected:
    readfile refuses it, ezdxf.recover repairs it."""
    d = ezdxf.new("R12")
    d.header["$INSUNITS"] = MM
    square_lines = [((0, 0), (40, 0)), ((40, 0), (40, 40)), ((40, 40), (0, 40)), ((0, 40), (0, 0))]
    for a, b in square_lines:
        d.modelspace().add_line(a, b)
    stream = io.StringIO()
    d.write(stream)
    text = stream.getvalue().replace("\n 62\n", "\n62.0\n", 1)
    return text.encode("ascii")


def build() -> dict[str, Any]:
    manifest: dict[str, Any] = {}
    for name, (builder, units, measurement, codes, extras) in CASES.items():
        d = doc(units, measurement)
        builder(d)
        d.saveas(HERE / f"{name}.dxf")
        manifest[name] = {"file": f"{name}.dxf", "codes": sorted(codes), **extras}
    d = doc()
    binary(d)
    d.saveas(HERE / "binary.dxf", fmt="bin")
    manifest["binary"] = {"file": "binary.dxf", "codes": ["DXF_NESTED_CONTOURS"], "metrics": {"holes": 1}}
    RAW["archive_zip"] = (_zip(), {"DXF_NOT_DXF"})
    RAW["recoverable"] = (_recoverable(), {"DXF_RECOVERED", "DXF_UNITLESS"})
    for name, (data, codes) in RAW.items():
        (HERE / f"{name}.dxf").write_bytes(data)
        manifest[name] = {"file": f"{name}.dxf", "codes": sorted(codes)}
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest


if __name__ == "__main__":
    build()
