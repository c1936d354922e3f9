"""Curves flattened in one numpy batch (ARC, CIRCLE, bulged LWPOLYLINE, cubic SPLINE) against ezdxf:
every chord within 0.02 mm of the true curve, every vertex on it, the same ends, the same closed flag
and direction as ezdxf's own path flattening, on random curves of every kind."""

from __future__ import annotations

from typing import Any

import ezdxf
import ezdxf.path
import numpy as np
import shapely

from fablabctl.geometry.arcs import arc_points
from fablabctl.geometry.chord import FLATTEN_MM
from fablabctl.geometry.flatten import Flattener, Polyline
from fablabctl.geometry.operations import default_rules

SLACK = 1e-6  # float rounding on curves up to 2 m across


def flatten(entities: list[Any]) -> dict[str, Polyline]:
    """Our polylines by entity handle (the whole modelspace walked at once, as a drawing is)."""
    flattener = Flattener(default_rules(), {}, 1.0, max_entities=100_000, max_depth=4)
    return {p.handle: p for p in flattener.run(entities).polylines}


def true_curve(entity: Any) -> np.ndarray:
    """The curve sampled finer than any chord (ezdxf's path at 2 µm)."""
    path = ezdxf.path.make_path(entity, segments=64)
    return np.array([(v.x, v.y) for v in path.flattening(0.002)], dtype=np.float64)


def reference(entity: Any) -> tuple[np.ndarray, bool]:
    path = ezdxf.path.make_path(entity, segments=16)
    points = np.array([(v.x, v.y) for v in path.flattening(FLATTEN_MM, segments=2)], dtype=np.float64)
    return points.reshape(-1, 2), bool(path.is_closed)


def check_against_ezdxf(entity: Any, ours: Polyline | None, *, closed_entity: bool = False) -> None:
    expected, expected_closed = reference(entity)
    if ours is None:  # empty curve: ezdxf gives no more than a point
        assert len(expected) < 2 or np.ptp(expected, axis=0).max() < 1e-6, entity
        return
    closed = expected_closed or closed_entity
    assert ours.closed == (closed and len(ours.points) >= 3), entity  # 2 points closed: a line
    ring = np.vstack([ours.points, ours.points[:1]]) if closed else ours.points
    if not closed:  # the same ends, in the same direction
        assert np.allclose(ring[0], expected[0], atol=SLACK) and np.allclose(
            ring[-1], expected[-1], atol=SLACK
        )
    line = shapely.LineString(ring)
    truth = true_curve(entity)
    # every point of the true curve is within 0.02 mm of our chords, and every vertex of ours on it
    assert shapely.distance(shapely.points(truth), line).max() <= FLATTEN_MM + SLACK, entity
    assert shapely.distance(shapely.points(ring), shapely.LineString(truth)).max() <= 0.002 + SLACK, entity


def test_arcs_and_circles_of_every_kind() -> None:
    rng = np.random.default_rng(7)
    msp = ezdxf.new().modelspace()
    entities = []
    for _ in range(100):
        centre = (rng.uniform(-500, 500), rng.uniform(-500, 500))
        radius = float(rng.choice([rng.uniform(0.01, 1), rng.uniform(1, 50), rng.uniform(50, 1000)]))
        extrusion = [(0, 0, 1), (0, 0, -1), (0.3, 0.2, 1)][int(rng.choice(3, p=[0.6, 0.3, 0.1]))]
        start = float(rng.uniform(0, 360))
        end = float(rng.choice([rng.uniform(0, 360), start, start + 360, start + 1e-12]))
        entities.append(msp.add_arc(centre, radius, start, end, dxfattribs={"extrusion": extrusion}))
        entities.append(msp.add_circle(centre, radius, dxfattribs={"extrusion": extrusion}))
    entities += [
        msp.add_circle((0, 0), 0.0),
        msp.add_arc((0, 0), 1e-13, 0, 90),
        msp.add_arc((1, 1), -5, 10, 100),
    ]
    ours = flatten(entities)
    for entity in entities:
        check_against_ezdxf(entity, ours.get(entity.dxf.handle), closed_entity=entity.dxftype() == "CIRCLE")
        points, _ = arc_points(entity, entity.dxftype(), distance=FLATTEN_MM)  # the one-at-a-time path
        if len(points) and entity.dxf.handle in ours:
            assert np.allclose(points, ours[entity.dxf.handle].points, atol=SLACK), entity


def test_few_points_on_big_arcs_and_round_small_holes() -> None:
    msp = ezdxf.new().modelspace()
    big, small = msp.add_circle((0, 0), 200), msp.add_circle((0, 0), 0.5)
    ours = flatten([big, small])
    # a sagitta of 0.005 mm: 2 acos(1 - 0.005 / 200) per chord, 445 chords, 448 for a vertex on each
    # quadrant point (the circle's extents exact); ezdxf's Béziers: 256
    assert len(ours[big.dxf.handle].points) == 448
    assert len(ours[small.dxf.handle].points) == 24  # 23 for 0.005 mm (ezdxf: 32)
    low, high = ours[big.dxf.handle].points.min(axis=0), ours[big.dxf.handle].points.max(axis=0)
    assert np.allclose(low, -200, atol=1e-9) and np.allclose(high, 200, atol=1e-9)


def test_bulged_polylines() -> None:
    rng = np.random.default_rng(11)
    msp = ezdxf.new().modelspace()
    entities = []
    for _ in range(80):
        n = int(rng.integers(2, 7))
        points = [
            (
                float(rng.uniform(-300, 300)),
                float(rng.uniform(-300, 300)),
                0.0,
                0.0,
                float(rng.choice([0.0, rng.uniform(-3, 3), 1.0, -1.0, 1e-7])),
            )
            for _ in range(n)
        ]
        if rng.random() < 0.2:
            points.append((points[0][0], points[0][1], 0.0, 0.0, 0.5))  # closed by repeating the start
        entities.append(msp.add_lwpolyline(points, format="xyseb", close=bool(rng.random() < 0.5)))
    ours = flatten(entities)
    for entity in entities:
        check_against_ezdxf(entity, ours.get(entity.dxf.handle), closed_entity=bool(entity.closed))
        vertices = np.array(entity.get_points("xy"))
        assert (
            shapely.distance(
                shapely.points(vertices), shapely.LineString(ours[entity.dxf.handle].points)
            ).max()
            < SLACK
        )  # every vertex is still a vertex: pieces chain as drawn


def test_splines() -> None:
    rng = np.random.default_rng(5)
    msp = ezdxf.new().modelspace()
    entities = []
    for i in range(60):
        points = np.cumsum(rng.uniform(-40, 60, size=(int(rng.integers(4, 9)), 2)), axis=0)
        if i % 3 == 0:
            entities.append(msp.add_spline(points.tolist()))  # fit points: ezdxf interpolates
        elif i % 3 == 1:
            entities.append(msp.add_open_spline(points.tolist()))  # control points
        else:  # rational: left to ezdxf's path code
            entities.append(
                msp.add_rational_spline(points.tolist(), rng.uniform(0.5, 2, len(points)).tolist())
            )
    ours = flatten(entities)
    for entity in entities:
        check_against_ezdxf(entity, ours.get(entity.dxf.handle), closed_entity=bool(entity.closed))
