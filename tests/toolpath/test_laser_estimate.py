"""The acceleration-aware duration model, against closed-form trapezoids."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fablabctl.toolpath.laser_estimate import (
    ACCEL_MM_S2,
    JUNCTION_DEVIATION_MM,
    move_time,
    paths_time,
    polyline_time,
)

A = ACCEL_MM_S2


def test_single_moves_trapezoid_and_triangle() -> None:
    v = 6000 / 60
    assert move_time(100, 6000) == pytest.approx(100 / v + v / A)  # cruise + (accel + decel) loss
    assert move_time(1, 6000) == pytest.approx(2 * math.sqrt(1 / A))  # never reaches speed
    assert move_time(0, 6000) == 0


def test_collinear_segments_do_not_slow_down() -> None:
    straight = np.column_stack([np.linspace(0, 100, 11), np.zeros(11)])
    assert polyline_time(straight, 3000) == pytest.approx(move_time(100, 3000))


def test_corners_cost_between_no_stop_and_full_stop() -> None:
    square = np.array([(0, 0), (50, 0), (50, 50), (0, 50), (0, 0)], dtype=float)
    feed = 6000
    junction = polyline_time(square, feed)
    stops = 4 * move_time(50, feed)
    no_stop = 200 / (feed / 60) + (feed / 60) / A
    assert no_stop < junction < stops
    # Grbl's rule for 90°: v² = a·δ·sin(θ/2)/(1 - sin(θ/2)) with θ the turn between reversed directions
    sin_half = math.sqrt(0.5)
    v_corner = math.sqrt(A * JUNCTION_DEVIATION_MM * sin_half / (1 - sin_half))
    v = feed / 60
    # sides 2 and 3 go from v_corner up to v and back; sides 1 and 4 from (or to) rest
    middle = 2 * (v - v_corner) / A + (50 - (v * v - v_corner**2) / A) / v
    first = v / A + (v - v_corner) / A + (50 - v * v / (2 * A) - (v * v - v_corner**2) / (2 * A)) / v
    assert junction == pytest.approx(2 * first + 2 * middle, rel=1e-9)


def test_reversal_stops_the_head() -> None:
    there_and_back = np.array([(0, 0), (40, 0), (0, 0)], dtype=float)
    assert polyline_time(there_and_back, 3000) == pytest.approx(2 * move_time(40, 3000))


def test_batch_equals_one_by_one_and_paths_do_not_leak_speed() -> None:
    rng = np.random.default_rng(3)
    paths = [np.cumsum(rng.normal(size=(n, 2)) * 10, axis=0) for n in (2, 5, 30, 3)]
    feeds = np.array([300.0, 6000.0, 1500.0, 800.0])
    batch = paths_time(paths, feeds)
    assert batch == pytest.approx([polyline_time(p, f) for p, f in zip(paths, feeds, strict=True)])
    slower = paths_time(paths, feeds / 2)
    assert (slower > batch).all()
