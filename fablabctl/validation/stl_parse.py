"""Bounded STL reading: sizes are checked against the real file before anything is allocated.

A binary STL header may claim 4 billion triangles in a 1 kB file; an ASCII STL may break at any
line. Both become a `StlParseError` with a stable code and the byte offset or line where it broke,
never a MemoryError or a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fablabctl.i18n import Text

BINARY_DTYPE = np.dtype([("normal", "<f4", (3,)), ("vertices", "<f4", (3, 3)), ("attr", "<u2")])
HEADER = 80
RECORD = 50


class StlParseError(Exception):
    def __init__(self, code: str, message: Text, location: dict[str, int] | None = None) -> None:
        super().__init__(message.en)
        self.code, self.message, self.location = code, message, location or {}


@dataclass(frozen=True, slots=True)
class RawStl:
    triangles: NDArray[np.float64]  # (n, 3, 3); float32 when read with `as_stored=True`
    normals: NDArray[np.float64]  # (n, 3) as stored in the file
    binary: bool


def read_binary(path: Path, *, max_triangles: int, as_stored: bool = False) -> RawStl:
    """`as_stored`: keep the file's float32 values (half the memory of float64, same numbers)."""
    size = path.stat().st_size
    if size < HEADER + 4:
        raise StlParseError(
            "STL_TRUNCATED",
            Text(
                f"Fichier STL binaire tronqué : {size} octets, il en faut au moins 84.",
                f"Truncated binary STL: {size} bytes, at least 84 needed.",
            ),
            {"byte": size},
        )
    with path.open("rb") as stream:
        stream.seek(HEADER)
        declared = int.from_bytes(stream.read(4), "little")
        available = (size - HEADER - 4) // RECORD
        if declared > available:
            raise StlParseError(
                "STL_TRUNCATED",
                Text(
                    f"Le fichier annonce {declared} triangles mais n'en contient que {available} "
                    f"(coupé à l'octet {size}) : le transfert ou l'export s'est interrompu.",
                    f"The file claims {declared} triangles but holds only {available} (cut at byte {size}): "
                    "the transfer or export was interrupted.",
                ),
                {"byte": HEADER + 4 + available * RECORD, "declared": declared, "available": available},
            )
        if declared > max_triangles:
            raise too_many(declared, max_triangles)
        records = np.fromfile(stream, dtype=BINARY_DTYPE, count=declared)
    if as_stored:
        return RawStl(
            triangles=np.ascontiguousarray(records["vertices"]),
            normals=np.ascontiguousarray(records["normal"]),
            binary=True,
        )
    return RawStl(
        triangles=records["vertices"].astype(np.float64),
        normals=records["normal"].astype(np.float64),
        binary=True,
    )


def too_many(count: int, limit: int) -> StlParseError:
    return StlParseError(
        "STL_TOO_MANY_TRIANGLES",
        Text(
            f"{count} triangles : c'est plus que la limite de {limit}. Simplifiez le maillage (décimation).",
            f"{count} triangles: more than the limit of {limit}. Simplify the mesh (decimation).",
        ),
        {"triangles": count},
    )


def _bad_line(line_no: int, text: Text) -> StlParseError:
    return StlParseError("STL_PARSE_ERROR", text, {"line": line_no})


def read_ascii(path: Path, *, max_triangles: int) -> RawStl:
    """Parse `solid / facet normal / outer loop / vertex x3 / endloop / endfacet / endsolid`, line by line."""
    triangles: list[list[list[float]]] = []
    normals: list[list[float]] = []
    vertices: list[list[float]] = []
    normal: list[float] = [0.0, 0.0, 0.0]
    in_facet = False
    line_no = 0
    with path.open("rb") as stream:
        for line_no, raw in enumerate(stream, start=1):
            try:
                line = raw.decode("ascii").strip()
            except UnicodeDecodeError:
                line = raw.decode("latin-1").strip()
                if not line.lower().startswith(("solid", "endsolid")):
                    raise _bad_line(
                        line_no,
                        Text(
                            f"Ligne {line_no} : caractères non ASCII dans un STL texte.",
                            f"Line {line_no}: non-ASCII characters in a text STL.",
                        ),
                    ) from None
            if not line:
                continue
            words = line.split()
            keyword = words[0].lower()
            if keyword == "facet":
                if in_facet:
                    raise _bad_line(
                        line_no,
                        Text(
                            f"Ligne {line_no} : « endfacet » manquant avant ce « facet ».",
                            f"Line {line_no}: missing 'endfacet' before this 'facet'.",
                        ),
                    )
                in_facet = True
                vertices = []
                normal = _floats(words[2:5], line_no) if len(words) >= 5 else [0.0, 0.0, 0.0]
            elif keyword == "vertex":
                if not in_facet or len(words) != 4:
                    raise _bad_line(
                        line_no,
                        Text(
                            f"Ligne {line_no} : « vertex » mal placé ou incomplet.",
                            f"Line {line_no}: misplaced or incomplete 'vertex'.",
                        ),
                    )
                vertices.append(_floats(words[1:4], line_no))
            elif keyword == "endfacet":
                if len(vertices) != 3:
                    raise _bad_line(
                        line_no,
                        Text(
                            f"Ligne {line_no} : une facette a {len(vertices)} sommets au lieu de 3.",
                            f"Line {line_no}: a facet has {len(vertices)} vertices instead of 3.",
                        ),
                    )
                triangles.append(vertices)
                normals.append(normal)
                in_facet = False
                if len(triangles) > max_triangles:
                    raise too_many(len(triangles), max_triangles)
            elif keyword not in ("solid", "outer", "endloop", "endsolid"):
                raise _bad_line(
                    line_no,
                    Text(
                        f"Ligne {line_no} : mot inattendu « {words[0][:20]} ».",
                        f"Line {line_no}: unexpected word '{words[0][:20]}'.",
                    ),
                )
    if in_facet:
        raise StlParseError(
            "STL_TRUNCATED",
            Text(
                f"Le fichier s'arrête au milieu d'une facette (ligne {line_no}).",
                f"The file stops in the middle of a facet (line {line_no}).",
            ),
            {"line": line_no},
        )
    shape_t, shape_n = (len(triangles), 3, 3), (len(normals), 3)
    return RawStl(
        triangles=np.array(triangles, dtype=np.float64).reshape(shape_t),
        normals=np.array(normals, dtype=np.float64).reshape(shape_n),
        binary=False,
    )


def _floats(words: list[str], line_no: int) -> list[float]:
    try:
        values = [float(w) for w in words]
    except ValueError:
        raise _bad_line(
            line_no,
            Text(
                f"Ligne {line_no} : nombre illisible « {' '.join(words)[:40]} ».",
                f"Line {line_no}: unreadable number '{' '.join(words)[:40]}'.",
            ),
        ) from None
    if len(values) != 3:
        raise _bad_line(
            line_no,
            Text(f"Ligne {line_no} : 3 coordonnées attendues.", f"Line {line_no}: 3 coordinates expected."),
        )
    return values


def read_stl(path: Path, *, binary: bool, max_triangles: int, as_stored: bool = False) -> RawStl:
    return (
        read_binary(path, max_triangles=max_triangles, as_stored=as_stored)
        if binary
        else read_ascii(path, max_triangles=max_triangles)
    )
