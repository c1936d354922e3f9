"""kill -9 the service while a machine is printing, start it again: nothing lost, nothing twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.queue.conftest import gcode
from tests.queue.service import Service


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    svc = Service(tmp_path / "var")
    yield svc
    svc.stop()


def test_kill_9_mid_job_then_restart(service: Service, tmp_path: Path) -> None:
    service.start()
    machines = service.call("GET", "/machines")
    printer = next(m for m in machines if m["kind"] == "printer")  # demo mode: simulated machines
    with gcode(tmp_path / "long.gcode", 30000).open("rb") as stream:
        design = service.call("POST", "/designs", files={"file": ("long.gcode", stream)})
    job = service.call(
        "POST", "/jobs", json={"design_id": design["id"], "material": "PLA", "kind": "printer"}
    )
    service.call("POST", f"/jobs/{job['id']}/approve")
    service.wait_for(
        lambda: (j := service.call("GET", f"/jobs/{job['id']}"))["state"] == "running" and j["progress"] > 0
    )
    service.kill()  # no goodbye: the machine stops with its host

    service.start()
    after = service.wait_for(
        lambda: (j := service.call("GET", f"/jobs/{job['id']}"))["state"] == "interrupted" and j
    )
    assert after["reason_code"] == "INTERRUPTED_BY_RESTART" and "redémarrage" in after["reason"]
    time.sleep(1.5)  # give the new dispatcher every chance to (wrongly) start it again
    events = [e["to_state"] for e in service.call("GET", f"/jobs/{job['id']}/events")]
    assert events.count("running") == 1 and events[-1] == "interrupted"
    free = service.wait_for(
        lambda: (
            next(m for m in service.call("GET", "/machines") if m["id"] == printer["id"])["state"] == "idle"
        )
    )
    assert free
    # the operator looks at the part and decides; then prints it again as a new attempt
    service.call(
        "POST", f"/jobs/{job['id']}/resolve", json={"outcome": "failed", "reason": "pièce incomplète"}
    )
    retry = service.call("POST", f"/jobs/{job['id']}/retry")
    assert retry["attempt_of_id"] == job["id"]
    service.wait_for(lambda: service.call("GET", f"/jobs/{retry['id']}")["state"] in ("running", "done"))
