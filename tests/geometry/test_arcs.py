"""`arc_points` gives exactly the points of ezdxf's own path flattening, on arcs of every kind."""

from __future__ import annotations

import ezdxf
import ezdxf.path
import numpy as np

from fablabctl.geometry.arcs import arc_points
from fablabctl.geometry.flatten import BEZIERS_PER_CIRCLE, FLATTEN_MM


def reference(entity: ezdxf.entities.DXFGraphic) -> tuple[np.ndarray, bool]:
    path = ezdxf.path.make_path(entity, segments=BEZIERS_PER_CIRCLE)
    points = [(v.x, v.y) for v in path.flattening(FLATTEN_MM, segments=2)]
    return np.array(points, dtype=np.float64).reshape(-1, 2), bool(path.is_closed)


def test_same_points_as_ezdxf_paths() -> None:
    rng = np.random.default_rng(7)
    msp = ezdxf.new().modelspace()
    entities = []
    for _ in range(300):
        centre = (rng.uniform(-500, 500), rng.uniform(-500, 500))
        radius = float(rng.choice([rng.uniform(0.01, 1), rng.uniform(1, 50), rng.uniform(50, 2000)]))
        mirrored = {"extrusion": (0, 0, -1)} if rng.random() < 0.2 else {}
        start = float(rng.uniform(0, 360))
        end = float(rng.choice([rng.uniform(0, 360), start, start + 360, start + 1e-12]))
        entities.append(msp.add_arc(centre, radius, start, end, dxfattribs=mirrored))
        entities.append(msp.add_circle(centre, radius, dxfattribs=mirrored))
    entities += [
        msp.add_circle((0, 0), 0.0),
        msp.add_arc((0, 0), 1e-13, 0, 90),
        msp.add_arc((1, 1), -5, 10, 100),
    ]
    for entity in entities:
        points, closed = arc_points(
            entity, entity.dxftype(), beziers_per_circle=BEZIERS_PER_CIRCLE, distance=FLATTEN_MM
        )
        expected, expected_closed = reference(entity)
        assert np.array_equal(points, expected), entity
        if len(expected):
            assert closed == expected_closed
