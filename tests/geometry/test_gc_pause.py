"""The collector pause around flattening and cutting always ends with the collector on again:
nested, after an error, and with pauses overlapping in several threads."""

from __future__ import annotations

import gc
import threading

import pytest

from fablabctl.geometry.gc_pause import gc_paused


def test_nested_pauses_and_errors_leave_the_collector_on() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_collector_switched_off_by_someone_else_stays_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_pauses_in_threads() -> None:
    inside = threading.Barrier(4, timeout=10)
    seen: list[bool] = []

    def work() -> None:
        with gc_paused():
            inside.wait()  # all four inside at once
            seen.append(gc.isenabled())
            inside.wait()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(t.is_alive() for t in threads)
    assert seen == [False] * 4 and gc.isenabled()
