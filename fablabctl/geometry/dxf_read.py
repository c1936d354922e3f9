"""Open an untrusted DXF: say what a file is when it is not a DXF, read it with `ezdxf.readfile`,
fall back to `ezdxf.recover` (and keep what the recovery fixed), and find the drawing's real unit.

ezdxf fills in header defaults ($INSUNITS = 6, metres, in a new document), so the unit is read from
the file's own header text; a binary DXF has no text to scan and its parsed header is trusted.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ezdxf import recover
from ezdxf.filemanagement import read as read_text
from ezdxf.filemanagement import readfile

log = logging.getLogger(__name__)

BINARY_SENTINEL = b"AutoCAD Binary DXF\r\n\x1a\x00"
HEADER_SCAN_BYTES = 2 * 1024 * 1024
MAX_NOTES = 20
# $INSUNITS -> millimetres per drawing unit (0: unitless, assumed mm)
UNIT_MM: dict[int, float] = {
    0: 1.0,
    1: 25.4,
    2: 304.8,
    4: 1.0,
    5: 10.0,
    6: 1000.0,
    8: 0.0000254,
    9: 0.0254,
    10: 914.4,
    13: 0.001,
    14: 100.0,
}
UNIT_NAMES: dict[int, str] = {
    0: "unitless",
    1: "inch",
    2: "foot",
    4: "mm",
    5: "cm",
    6: "m",
    8: "microinch",
    9: "mil",
    10: "yard",
    13: "µm",
    14: "dm",
}
# what a file that is not a DXF most likely is, by its first bytes
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"%PDF", "pdf"),
    (b"AC10", "dwg"),
    (b"GIF8", "gif"),
    (b"\x1f\x8b", "gzip"),
)


class DxfLoadError(Exception):
    """The file cannot give a drawing; `code` is the stable finding code, `detail` says why."""

    def __init__(self, code: str, detail: str, **location: Any) -> None:
        super().__init__(detail)
        self.code, self.detail, self.location = code, detail, location


@dataclass(frozen=True, slots=True)
class Units:
    """The unit the file declares, and the factor that turns it into millimetres."""

    insunits: int  # 0 when the file does not say
    declared: bool  # False: $INSUNITS absent from the header
    name: str
    to_mm: float
    measurement: int | None  # $MEASUREMENT: 0 imperial, 1 metric, None absent


@dataclass(frozen=True, slots=True)
class Opened:
    doc: Any  # ezdxf Drawing
    units: Units
    recovered: bool = False
    recovery_notes: tuple[str, ...] = field(default_factory=tuple)  # what ezdxf.recover fixed
    unfixed_errors: int = 0
    decimal_commas: int = 0  # numbers written "2,5" (some exporters in French/German locales), read as 2.5


def sniff(path: Path) -> str:
    """'dxf', 'binary-dxf', or what the file looks like instead (zip, png, dwg, svg, binary, text)."""
    with path.open("rb") as stream:
        head = stream.read(4096)
    if head.startswith(BINARY_SENTINEL):
        return "binary-dxf"
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return kind
    if not head.strip():
        return "empty"
    if b"\x00" in head:
        return "binary"
    text = head.decode("latin-1").lstrip("\ufeff\xef\xbb\xbf")
    if text.lstrip().startswith("<"):
        return "svg" if "<svg" in text.lower() else "xml"
    # a DXF is pairs of lines: an integer group code, then a value ("0" / "SECTION", "999" / comment)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return "dxf" if first.lstrip("-").isdigit() else "text"


def open_dxf(path: Path) -> Opened:
    """Read the file; raise DxfLoadError (DXF_NOT_DXF, DXF_UNREADABLE) when no drawing comes out."""
    try:
        kind = sniff(path)
    except OSError as exc:
        log.info("cannot open %s: %s", path.name, exc)
        raise DxfLoadError("DXF_UNREADABLE", "os") from None
    if kind not in ("dxf", "binary-dxf"):
        raise DxfLoadError("DXF_NOT_DXF", kind, looks_like=kind)
    recovered, unfixed = False, 0
    notes: tuple[str, ...] = ()
    commas = _with_decimal_points(path) if kind == "dxf" else None
    if commas is not None:
        text, count = commas
        try:
            doc = read_text(io.StringIO(text))
        except Exception as exc:  # untrusted input: any failure means "cannot be read", never a crash
            log.info("%s with decimal commas unreadable: %s", path.name, exc)
            raise DxfLoadError("DXF_UNREADABLE", "decimal commas") from None
        return Opened(doc, _units(path, doc, False), decimal_commas=count)
    try:
        doc = readfile(str(path))
    except OSError as exc:
        log.info("cannot open %s: %s", path.name, exc)
        raise DxfLoadError("DXF_UNREADABLE", "os") from None
    except Exception as first:  # untrusted input: ezdxf raises many types on damage; try the recover loader
        log.info("readfile failed on %s (%s), trying recover", path.name, first)
        try:
            doc, auditor = recover.readfile(str(path))
        except Exception as exc:  # everything here means "cannot be read", reported, never a crash
            log.info("recover failed on %s: %s", path.name, exc)
            raise DxfLoadError("DXF_UNREADABLE", type(exc).__name__) from None
        recovered = True
        notes = tuple(str(entry.message) for entry in auditor.fixes[:MAX_NOTES])
        unfixed = len(auditor.errors)
        if not notes:  # the strict reader's complaint names Python internals: say what happened instead
            notes = ("structure du fichier réparée à la lecture / file structure repaired while reading",)
    return Opened(doc, _units(path, doc, kind == "binary-dxf"), recovered, notes, unfixed)


# group codes whose value is a real number (coordinates, distances, angles, scales)
FLOAT_CODES = frozenset(
    [*range(10, 60), *range(110, 150), *range(210, 240), *range(460, 470), *range(1010, 1060)]
)
COMMA_NUMBER = re.compile(rb"\n[ \t]*-?\d+,\d+(?:[eE][-+]?\d+)?[ \t]*\r?\n")
COMMA_VALUE = re.compile(r"^\s*-?\d+,\d+(?:[eE][-+]?\d+)?\s*$")


def _with_decimal_points(path: Path) -> tuple[str, int] | None:
    """The file's text with "2,5" read as 2.5 in number fields, and how many there were; None when the
    file has none (the usual case, left to ezdxf's own reader)."""
    data = path.read_bytes()
    if not COMMA_NUMBER.search(data):
        return None
    lines = data.decode("utf-8", errors="replace").splitlines()
    count = 0
    for index in range(1, len(lines), 2):
        code = lines[index - 1].strip()
        if code.lstrip("-").isdigit() and int(code) in FLOAT_CODES and COMMA_VALUE.match(lines[index]):
            lines[index] = lines[index].replace(",", ".")
            count += 1
    return ("\n".join(lines) + "\n", count) if count else None


HEADER_VAR = re.compile(rb"\$(INSUNITS|MEASUREMENT)\s*\r?\n\s*\d+\s*\r?\n\s*(-?\d+)")


def _units(path: Path, doc: Any, binary: bool) -> Units:
    declared: dict[str, int] = {}
    if binary:
        for name in ("$INSUNITS", "$MEASUREMENT"):
            if name in doc.header:
                declared[name[1:]] = int(doc.header.get(name, 0) or 0)
    else:
        with path.open("rb") as stream:
            head = stream.read(HEADER_SCAN_BYTES)
        end = head.find(b"ENDSEC")
        for match in HEADER_VAR.finditer(head, 0, end if end > 0 else len(head)):
            declared.setdefault(match.group(1).decode(), int(match.group(2)))
    insunits = declared.get("INSUNITS", 0)
    if insunits not in UNIT_MM:
        insunits = 0  # an unknown code is as good as no unit: assume mm and say so
    return Units(
        insunits=insunits,
        declared="INSUNITS" in declared,
        name=UNIT_NAMES[insunits],
        to_mm=UNIT_MM[insunits],
        measurement=declared.get("MEASUREMENT"),
    )
