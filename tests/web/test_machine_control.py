"""Emergency stop and laser framing against a real `fablabctl serve`, whose dispatcher drives the real
Marlin and Grbl drivers over pseudo-terminals to simulators running in this test process: what the
firmware receives, and how fast, is read on the simulators themselves."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ezdxf
import httpx
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from fablabctl.cli import app as cli_app
from fablabctl.machines.sim.grbl_sim import GrblSimulator
from fablabctl.machines.sim.marlin_sim import MarlinSimulator
from tests.api.live import LiveService

ESTOP_WITHIN_S = 1.0
CLI_WITHIN_S = 2.0  # the CLI builds its HTTP client (TLS context included) after it is invoked


class RecordingGrbl(GrblSimulator):
    """The Grbl simulator, noting when each soft reset (Ctrl-X, 0x18) reached the firmware."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.resets: list[float] = []

    def _byte(self, byte: int) -> None:
        if byte == 0x18:
            self.resets.append(time.monotonic())
        super()._byte(byte)


def _until(check: Callable[[], bool], timeout: float, what: str) -> float:
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.01)
    return time.monotonic()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[LiveService, MarlinSimulator, RecordingGrbl, dict[str, int]]]:
    marlin = MarlinSimulator(heat_rate=500.0, home_s=0.01)
    grbl = RecordingGrbl(time_scale=0.5)  # framing takes ~2 s: long enough to try confirming during it
    marlin.start()
    grbl.start()
    service = LiveService(
        tmp_path / "var", dispatch_poll_s="0.2", stagger_start_s="0", db_busy_timeout_s="0.5"
    )
    try:
        service.start(timeout=240)  # the build machine is shared: starting may be slow
        admin = service.login()
        ids = {}
        for body in (
            {"name": "prusa", "kind": "printer", "driver": "marlin", "connection": {"port": marlin.port}},
            {
                "name": "laser",
                "kind": "laser",
                "driver": "grbl",
                "connection": {"port": grbl.port},
                "materials": ["plywood-poplar-3mm"],
            },
        ):
            bed = (
                {"bed_x_mm": 250, "bed_y_mm": 210, "bed_z_mm": 210}
                if body["kind"] == "printer"
                else {
                    "bed_x_mm": 400,
                    "bed_y_mm": 300,
                }
            )
            made = service.call("POST", "/machines", admin, json={**body, **bed})
            assert made.status_code == 201, made.text
            ids[str(body["name"])] = made.json()["id"]

        def idle() -> bool:
            rows = service.call("GET", "/machines", admin).json()
            return all(m["state"] == "idle" for m in rows)

        _until(idle, 30, f"machines connected\n{service.tail()}")
        yield service, marlin, grbl, ids
    finally:
        service.stop()
        marlin.stop()
        grbl.stop()


def _panel(path: Path) -> Path:
    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 4
    doc.layers.add("CUT", color=1)
    doc.modelspace().add_lwpolyline(
        [(10, 10), (60, 10), (60, 50), (10, 50)], close=True, dxfattribs={"layer": "CUT"}
    )
    doc.saveas(path)
    return path


def test_framing_traces_the_outline_at_low_power_before_the_cut(
    lab: tuple[LiveService, MarlinSimulator, RecordingGrbl, dict[str, int]], tmp_path: Path
) -> None:
    service, _marlin, grbl, ids = lab
    admin = service.login()
    lea = service.add_tigiste(admin)
    with _panel(tmp_path / "panneau.dxf").open("rb") as f:
        design = service.call("POST", "/designs", lea, files={"file": ("panneau.dxf", f)}).json()
    job = service.call(
        "POST", "/jobs", lea, json={"design_id": design["id"], "material": "plywood-poplar-3mm"}
    )
    job_id = job.json()["id"]
    assert service.call("POST", f"/jobs/{job_id}/framing", admin).json()["code"] == "FRAMING_NOT_WAITING"
    # the trainer's priority from another machine's terminal (`--api`), negative values too
    token = admin["Authorization"].removeprefix("Bearer ")
    for value in ("3", "-2"):
        moved = CliRunner().invoke(
            cli_app, ["--api", service.root, "--token", token, "job", "priority", str(job_id), value]
        )
        assert moved.exit_code == 0, moved.output
        assert f"priorité {int(value):+d}" in moved.output
    assert service.call("GET", f"/jobs/{job_id}", admin).json()["priority"] == -2
    service.call("POST", f"/jobs/{job_id}/approve", admin)

    def waiting() -> bool:
        return bool(service.call("GET", f"/jobs/{job_id}", admin).json()["state"] == "waiting_operator")

    _until(waiting, 60, f"job waiting for the operator\n{service.tail()}")
    assert not grbl.executed, "nothing may reach the laser before the operator acts"
    answer: dict[str, httpx.Response] = {}
    tracing = threading.Thread(
        target=lambda: answer.setdefault("r", service.call("POST", f"/jobs/{job_id}/framing", admin))
    )
    tracing.start()
    _until(lambda: bool(grbl.executed), 10, "framing reaching the laser")
    during = service.call("POST", f"/jobs/{job_id}/confirm", admin)
    assert during.status_code == 409 and during.json()["code"] == "FRAMING_BUSY"
    tracing.join(timeout=60)
    framed = answer["r"]
    assert framed.status_code == 200, framed.text
    assert (
        framed.json()["bounds_mm"] == [[10.0, 10.0], [60.0, 50.0]]
        and framed.json()["machine_id"] == ids["laser"]
    )
    moves = [line for line in grbl.executed if line.startswith("G1")]
    assert len(moves) == 4 and grbl.executed[-1] == "M5"
    assert 0 < grbl.max_power_seen <= 10, "framing at 1 % of $30=1000: S10 at most"
    assert not grbl.laser_on
    state = service.call("GET", f"/jobs/{job_id}", admin).json()["state"]
    assert state == "waiting_operator", "framing does not start the job"
    service.call("POST", f"/jobs/{job_id}/cancel", admin)


def _timed(
    call: Callable[[], Any], arrived: Callable[[], bool], what: str, within: float = ESTOP_WITHIN_S
) -> tuple[float, Any]:
    """Send `call` in a thread and time, from the moment it is sent, the firmware receiving it."""
    answer: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: answer.setdefault("r", call()))
    sent = time.monotonic()
    worker.start()
    got = _until(arrived, within, what)
    worker.join(timeout=60)
    assert "r" in answer, f"{what}: no answer"
    return got - sent, answer["r"]


def test_emergency_stop_reaches_the_firmware_within_a_second(
    lab: tuple[LiveService, MarlinSimulator, RecordingGrbl, dict[str, int]],
) -> None:
    service, marlin, grbl, ids = lab
    staff = service.login()
    # an operator's open page or client: connected already, so the second measured is the service's
    with httpx.Client(base_url=service.url, headers=staff, timeout=30) as api:
        assert api.get("/machines").status_code == 200
        took, one = _timed(
            lambda: api.post(f"/machines/{ids['prusa']}/emergency-stop"),
            lambda: "M112" in marlin.executed,
            "M112 on the Marlin simulator",
        )
        assert one.status_code == 200, one.text
        assert one.json() == {"stopped": [{"machine_id": ids["prusa"], "name": "prusa"}], "not_reached": []}
        assert took < ESTOP_WITHIN_S
        took, laser = _timed(
            lambda: api.post(f"/machines/{ids['laser']}/emergency-stop"),
            lambda: bool(grbl.resets),
            "Ctrl-X (0x18) on the Grbl simulator",
        )
        assert laser.status_code == 200 and took < ESTOP_WITHIN_S

    # another process holds the database's write lock: the stop goes through all the same and the answer
    # says so (never "busy, nothing saved" after an emergency stop); its audit row follows once it can
    marlin.halted = False  # Marlin ignores everything after kill(): the printer was switched off and on
    m112_before = marlin.executed.count("M112")
    lock = sqlite3.connect(service.data / "fablabctl.db", isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")
        busy = httpx.post(f"{service.url}/machines/{ids['prusa']}/emergency-stop", headers=staff, timeout=30)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert busy.status_code == 200, busy.text
    assert marlin.executed.count("M112") > m112_before

    # the CLI from another machine (--api): through the serving process, every machine at once
    marlin.halted = False
    token = staff["Authorization"].removeprefix("Bearer ")
    m112_before, resets_before = marlin.executed.count("M112"), len(grbl.resets)
    took, result = _timed(
        lambda: CliRunner().invoke(
            cli_app,
            ["--api", service.root, "--token", token, "machine", "estop", "--all"],
            catch_exceptions=False,
        ),
        lambda: marlin.executed.count("M112") > m112_before and len(grbl.resets) > resets_before,
        "M112 and Ctrl-X from `fablabctl --api URL machine estop --all`",
        within=CLI_WITHIN_S,
    )
    assert result.exit_code == 0, result.output
    assert (
        "ARRÊT D'URGENCE envoyé à #" in result.output
        and "prusa" in result.output
        and "laser" in result.output
    )
    engine = create_engine(f"sqlite:///{service.data / 'fablabctl.db'}")

    def stops() -> int:
        with engine.connect() as db:
            query = text("SELECT count(*) FROM audit_log WHERE action = 'machine.emergency_stop'")
            return int(db.execute(query).scalar() or 0)

    try:  # one row per machine stopped: 1 + 1 + 1 (written once the lock was released) + 2
        _until(lambda: stops() >= 5, 15, "the audit rows of every stop")
        assert stops() == 5
    finally:
        engine.dispose()
    nothing = CliRunner().invoke(cli_app, ["--api", service.root, "--token", token, "machine", "estop"])
    assert nothing.exit_code == 2
