"""Small meshes made on the spot for the web tests."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np


def cube_stl(path: Path, size: float, *, drop_faces: int = 0) -> Path:
    """A binary STL cube (outward normals); `drop_faces` triangles removed leave a hole."""
    v = np.array([[x, y, z] for x in (0, size) for y in (0, size) for z in (0, size)], dtype=float)
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    triangles = []
    for a, b, c, d in quads:
        triangles += [(a, b, c), (a, c, d)]
    triangles = triangles[drop_faces:]
    with path.open("wb") as out:
        out.write(b"fablabctl test cube".ljust(80, b" "))
        out.write(struct.pack("<I", len(triangles)))
        for tri in triangles:
            p = v[list(tri)]
            normal = np.cross(p[1] - p[0], p[2] - p[0])
            normal /= np.linalg.norm(normal)
            out.write(struct.pack("<12fH", *normal, *p.reshape(-1), 0))
    return path
