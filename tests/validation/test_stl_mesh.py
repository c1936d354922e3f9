"""The light mesh gives trimesh's numbers exactly: same merged vertices in the same order, same faces,
normals, areas, volume, watertightness, winding and body count, on every corpus STL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh

from fablabctl.validation import stl_mesh
from fablabctl.validation.sniff import detect_type
from fablabctl.validation.stl_mesh import Mesh
from fablabctl.validation.stl_parse import read_stl
from fablabctl.validation.stl_shape import edge_use

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "stl"
FILES = sorted(p.name for p in CORPUS.iterdir() if p.stat().st_size > 100)


def reference(corners: np.ndarray) -> trimesh.Trimesh:
    """What validation used to build: trimesh's own merge of the file's corners."""
    return trimesh.Trimesh(
        vertices=corners.reshape(-1, 3).astype(np.float64),
        faces=np.arange(len(corners) * 3).reshape(-1, 3),
        process=True,
        validate=False,
    )


def assert_same(mesh: Mesh, ref: trimesh.Trimesh) -> None:
    assert np.array_equal(mesh.vertices, ref.vertices)
    assert np.array_equal(mesh.faces, ref.faces)
    assert np.array_equal(mesh.face_normals, ref.face_normals)
    assert np.array_equal(mesh.area_faces, ref.area_faces)
    assert mesh.area == ref.area
    assert mesh.volume == ref.volume
    assert np.array_equal(mesh.extents, ref.extents)
    assert mesh.is_watertight == ref.is_watertight
    assert mesh.is_winding_consistent == ref.is_winding_consistent
    assert mesh.body_count == ref.body_count
    ours, theirs = edge_use(mesh), edge_use(ref)
    assert np.array_equal(ours.open_edges, theirs.open_edges)
    assert ours.shared_by_more == theirs.shared_by_more


@pytest.mark.parametrize("name", FILES)
def test_corpus_meshes_match_trimesh(name: str) -> None:
    path = CORPUS / name
    raw = read_stl(path, binary=detect_type(path) == "stl_binary", max_triangles=10**7, as_stored=True)
    assert_same(Mesh.from_corners(raw.triangles), reference(raw.triangles))


def test_merge_rules_match_trimesh() -> None:
    """Corners 1e-9 apart are one vertex, 1e-7 apart are two; 0.0 and -0.0 are one; first kept."""
    corners = np.array(
        [
            [[0.0, 0.0, 0.0], [10.0, 0.0, 0.0], [0.0, 10.0, 0.0]],
            [[-0.0, 0.0, 1e-9], [0.0, 10.0, 0.0], [10.0, 0.0, 1e-7]],
            [[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 10.0]],
            [[0.0, 0.0, 0.0], [0.0, 0.0, 10.0], [0.0, 10.0, 0.0]],
        ],
        dtype=np.float64,
    )
    mesh = Mesh.from_corners(corners)
    assert_same(mesh, reference(corners))
    assert len(mesh.vertices) == 5


def test_hash_collisions_are_resolved_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deliberately bad hash (7 values for every vertex) still gives the exact merge."""
    path = CORPUS / "trimesh__featuretype.STL"
    corners = read_stl(path, binary=True, max_triangles=10**7, as_stored=True).triangles
    expected = Mesh.from_corners(corners)
    monkeypatch.setattr(
        stl_mesh, "_hash_rows", lambda rows: (rows[:, 0].astype(np.uint64) % np.uint64(7)) << np.uint64(60)
    )
    colliding = Mesh.from_corners(corners)
    assert np.array_equal(colliding.vertices, expected.vertices)
    assert np.array_equal(colliding.faces, expected.faces)
