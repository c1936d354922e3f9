"""Issue 12, jobs: no silent dead ends. Materials are checked at submission; a queued job that no
machine can take says why (on the job, in lists, on the event stream) and is looked at again when
machines change; staff moves name the person; reasons are codes shown in the reader's language;
a cancelled job keeps its progress; the history splits preparing / waiting for the operator."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fablabctl.clock import utc_now
from fablabctl.db.engine import session_scope
from fablabctl.db.models import Job, JobEvent, Machine, User
from fablabctl.event_bus import EventBus
from fablabctl.queue import events
from fablabctl.queue.blocked import update_blocked, why_blocked
from fablabctl.queue.dispatcher import Dispatcher
from fablabctl.queue.events import shape_errors
from fablabctl.queue.reasons import render
from fablabctl.queue.runner import job_file_name
from fablabctl.queue.states import JobState
from fablabctl.queue.steps import Outcome, _finish, _progress
from tests.queue.conftest import Lab, gcode
from tests.validation import cases


def post(lab: Lab, user: str, path: str, lang: str = "fr", **kwargs: Any) -> Any:
    headers = {**lab.auth(user), "Accept-Language": lang}
    return lab.client.post(f"/api/v1{path}", headers=headers, **kwargs)


def upload(lab: Lab, user: str, path: Path) -> int:
    with path.open("rb") as stream:
        return int(lab.call(user, "POST", "/designs", files={"file": (path.name, stream)})["id"])


def run_collecting(
    lab: Lab, condition: Callable[[], bool], timeout: float = 60.0, during: Callable[[], None] | None = None
) -> list[events.Event]:
    """Run a dispatcher until `condition()`, and return every event the bus published meanwhile."""
    heard: list[events.Event] = []
    dispatcher = Dispatcher(lab.context)

    async def main() -> None:
        async with lab.context.bus.subscribe() as sub:
            task = asyncio.create_task(dispatcher.run())
            try:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + timeout
                while not await asyncio.to_thread(condition):
                    if during:
                        await asyncio.to_thread(during)
                    assert loop.time() < deadline, f"condition not reached in time: {lab.snapshot()}"
                    assert not task.done(), task.exception()
                    with contextlib.suppress(TimeoutError):
                        while True:
                            heard.append(await asyncio.wait_for(sub.get(), 0.05))
            finally:
                await dispatcher.stop()
                task.cancel()
            while not sub.queue.empty():
                heard.append(sub.queue.get_nowait())

    asyncio.run(main())
    return heard


def assert_shapes(heard: list[events.Event]) -> None:
    problems = [p for e in heard for p in shape_errors(e.name, e.data)]
    assert not problems, problems


# --- 1. materials at submission -------------------------------------------------------------


def test_an_unknown_material_is_refused_with_the_choices(lab: Lab, tmp_path: Path) -> None:
    design = upload(lab, "lea", cases.stl_box(tmp_path / "cale.stl", (8, 8, 2)))
    answer = post(lab, "lea", "/jobs", json={"design_id": design, "material": "unobtainium"})
    assert answer.status_code == 422 and answer.json()["code"] == "UNKNOWN_MATERIAL"
    message = answer.json()["message"]
    assert "unobtainium" in message and "PETG" in message and "PLA" in message, message
    assert message.startswith("Matériau inconnu")
    english = post(lab, "lea", "/jobs", lang="en", json={"design_id": design, "material": "unobtainium"})
    assert english.json()["message"].startswith("Unknown material: 'unobtainium'. For a 3D printer")
    assert lab.call("lea", "GET", "/jobs") == []  # nothing was created


@pytest.mark.parametrize(
    ("make", "material", "valid"),
    [
        (lambda p: cases.stl_box(p / "cale.stl", (8, 8, 2)), "plywood-poplar-5mm", "PLA"),
        (lambda p: cases.dxf_good_panel(p / "panneau.dxf"), "PLA", "plywood-poplar-5mm"),
    ],
    ids=["stl-with-a-sheet", "dxf-with-a-filament"],
)
def test_a_material_for_the_other_kind_of_machine_is_refused(
    lab: Lab, tmp_path: Path, make: Callable[[Path], Path], material: str, valid: str
) -> None:
    design = upload(lab, "lea", make(tmp_path))
    answer = post(lab, "lea", "/jobs", json={"design_id": design, "material": material})
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["code"] == "MATERIAL_WRONG_KIND" and valid in body["message"] and material in body["message"]
    assert valid in body["detail"]["choices"]
    ok = post(lab, "lea", "/jobs", json={"design_id": design, "material": valid})
    assert ok.status_code == 201, ok.text


# --- 2. a job no machine can take says why ------------------------------------------------


def test_blocked_reasons_for_size_and_pinned_machine() -> None:
    """The reasons a free machine would not cure, from the scheduler's own rules (no database)."""
    printer = Machine(
        id=1, kind="printer", bed_x_mm=250, bed_y_mm=210, bed_z_mm=210, materials=[], maintenance=False
    )
    now = utc_now()
    big = Job(id=1, kind="printer", material="PLA", priority=0, owner_id=1, queued_at=now, settings={})
    small = Job(id=2, kind="printer", material="PLA", priority=0, owner_id=1, queued_at=now, settings={})
    pinned = Job(
        id=3,
        kind="printer",
        material="PLA",
        priority=0,
        owner_id=1,
        queued_at=now,
        settings={},
        pinned_machine_id=9,
    )
    sizes = {1: (300.0, 300.0, 10.0), 2: (10.0, 10.0, 10.0), 3: (10.0, 10.0, 10.0)}
    found = why_blocked([big, small, pinned], sizes, [printer], None)
    assert found[2] is None  # it only waits for the printer to be free: not blocked
    assert found[1] is not None and found[1].code == "TOO_LARGE_FOR_ALL_MACHINES"
    assert (
        found[1].text().fr
        == "la pièce (300 × 300 × 10 mm) est trop grande pour toutes les machines (imprimante 3D) du site"
    )
    assert found[3] is not None and found[3].code == "PINNED_MACHINE_UNAVAILABLE"
    assert found[3].params["machine_id"] == 9


def test_a_job_no_machine_can_take_says_why_until_machines_change(lab: Lab, tmp_path: Path) -> None:
    panel = cases.dxf_good_panel(tmp_path / "panneau.dxf")
    sheet = lab.submit("lea", panel, material="plywood-poplar-3mm")
    lab.approve(sheet)

    def reason(job_id: int) -> str | None:
        return lab.job(job_id).reason_code

    heard = run_collecting(lab, lambda: reason(sheet) == "NO_MACHINE_OF_KIND")
    listed = {j["id"]: j for j in lab.call("trainer", "GET", "/jobs?state=queued")}
    assert listed[sheet]["reason_code"] == "NO_MACHINE_OF_KIND"
    assert listed[sheet]["reason"].startswith("aucune machine de ce site n'est une découpeuse laser")
    english = lab.client.get(
        f"/api/v1/jobs/{sheet}", headers={**lab.auth("lea"), "Accept-Language": "en"}
    ).json()
    assert english["reason"].startswith("no machine of this site is a laser cutter")
    blocked = [e for e in heard if e.name == events.JOB_BLOCKED and e.data["job_id"] == sheet]
    assert blocked and blocked[-1].data["reason_code"] == "NO_MACHINE_OF_KIND"
    assert blocked[-1].owner_id == lab.job(sheet).owner_id  # the tigiste hears it too

    # a diode laser that does not take this sheet: another reason, re-evaluated on its own
    diode = lab.machine("diode", kind="laser", materials=["mdf-3mm"])
    heard += run_collecting(lab, lambda: reason(sheet) == "MATERIAL_NOT_ACCEPTED")
    assert "plywood-poplar-3mm" in (lab.job(sheet).reason or "")
    # clear acrylic: the diode would take it by its list, but no diode can cut it
    clear = lab.submit("sam", panel, material="acrylic-clear-3mm")
    lab.approve(clear)
    lab.call(
        "admin",
        "PATCH",
        f"/machines/{diode}",
        json={"materials": ["plywood-poplar-3mm", "acrylic-clear-3mm"]},
    )
    heard += run_collecting(
        lab,
        lambda: lab.job(sheet).state == "done" and reason(clear) == "NO_LASER_SOURCE",
        timeout=90,
    )
    assert lab.job(sheet).reason_code is None and lab.job(clear).state == "queued"
    assert any(e.name == events.JOB_BLOCKED and e.data["reason_code"] is None for e in heard)  # cleared
    co2 = lab.machine("co2", kind="laser", materials=[], laser_source="co2")
    heard += run_collecting(lab, lambda: lab.job(clear).state == "done", timeout=90)
    assert lab.job(clear).machine_id == co2 and lab.job(clear).reason_code is None
    assert_shapes(heard)


# --- 4-6, 8. who, coded reasons, progress kept, events' shapes, history split ------------------


def test_staff_moves_name_the_person_and_reasons_speak_the_readers_language(lab: Lab, tmp_path: Path) -> None:
    lab.machine("careful", confirm=True)
    long_job = lab.submit("lea", gcode(tmp_path / "long.gcode", 30000), kind="printer")
    lab.approve(long_job)
    seen: list[str] = []
    progress_at_cancel: list[float] = []

    def drive() -> None:
        job = lab.job(long_job)
        if job.requested_action is not None:
            return
        if job.state == "waiting_operator" and "confirm" not in seen:
            if job.waiting_at and utc_now() - job.waiting_at > timedelta(seconds=1.2):
                seen.append("confirm")
                lab.call("trainer", "POST", f"/jobs/{long_job}/confirm")
        elif job.state == "running" and "pause" not in seen and job.progress > 0:
            seen.append("pause")
            lab.call("trainer", "POST", f"/jobs/{long_job}/pause")
        elif job.state == "paused" and "resume" not in seen:
            seen.append("resume")
            lab.call("trainer", "POST", f"/jobs/{long_job}/resume")
        elif job.state == "running" and "resume" in seen and "cancel" not in seen and job.progress > 0.05:
            seen.append("cancel")
            progress_at_cancel.append(job.progress)
            lab.call("admin", "POST", f"/jobs/{long_job}/cancel")

    heard = run_collecting(lab, lambda: lab.job(long_job).state == "cancelled", during=drive, timeout=120)
    with session_scope(lab.context.sessions) as session:
        ids = {u.username: u.id for u in session.scalars(select(User))}
        moves = {
            (e.from_state, e.to_state): e.actor_id
            for e in session.scalars(select(JobEvent).where(JobEvent.job_id == long_job))
        }
    assert moves[("submitted", "approved")] == ids["trainer"]
    assert moves[("waiting_operator", "running")] == ids["trainer"]
    assert moves[("running", "paused")] == ids["trainer"]
    assert moves[("paused", "running")] == ids["trainer"]
    assert moves[("running", "cancelled")] == ids["admin"]
    assert moves[("queued", "preparing")] is None  # the service's own moves name nobody
    job = lab.job(long_job)
    assert job.progress >= progress_at_cancel[0] > 0.05, (job.progress, progress_at_cancel)  # kept

    # the operator's wait is not preparation time
    record = next(r for r in lab.call("trainer", "GET", "/jobs/history") if r["job_id"] == long_job)
    assert record["waiting_operator_s"] >= 1.0, record
    assert job.preparing_at and job.waiting_at and job.running_at
    assert record["preparing_s"] == round((job.waiting_at - job.preparing_at).total_seconds(), 1), record
    assert record["waiting_operator_s"] == round((job.running_at - job.waiting_at).total_seconds(), 1), record

    # cancelled while the operator is asked: a coded reason, in the reader's language
    short = lab.submit("sam", gcode(tmp_path / "short.gcode"), kind="printer")
    lab.approve(short)

    def cancel_when_asked() -> None:
        job = lab.job(short)
        if job.state == "waiting_operator" and job.requested_action is None:
            lab.call("trainer", "POST", f"/jobs/{short}/cancel")

    heard += run_collecting(lab, lambda: lab.job(short).state == "cancelled", during=cancel_when_asked)
    french = lab.call("sam", "GET", f"/jobs/{short}")
    assert french["reason_code"] == "CANCELLED_BEFORE_START" and french["reason"] == "annulé avant le départ"
    english = lab.client.get(f"/api/v1/jobs/{short}", headers={**lab.auth("sam"), "Accept-Language": "en"})
    assert english.json()["reason"] == "cancelled before the start"
    last = lab.client.get(
        f"/api/v1/jobs/{short}/events", headers={**lab.auth("sam"), "Accept-Language": "en"}
    )
    assert last.json()[-1]["reason"] == "cancelled before the start"
    assert last.json()[-1]["actor_id"] == ids["trainer"]

    # a rejection names the trainer too
    third = lab.submit("lea", gcode(tmp_path / "third.gcode"), kind="printer")
    lab.call("trainer", "POST", f"/jobs/{third}/reject", json={"reason": "pièce trop fine"})
    rejected = lab.call("trainer", "GET", f"/jobs/{third}/events")[-1]
    assert rejected["actor_id"] == ids["trainer"] and rejected["reason"] == "pièce trop fine"

    # one event name, one shape: every event heard matches its documented shape
    assert_shapes(heard)
    requests = [e.data for e in heard if e.name == events.JOB_STATE and "requested" in e.data]
    assert {r["requested"] for r in requests} >= {"confirm", "pause", "resume", "cancel"}
    assert all(r["from_state"] == r["to_state"] and r["actor_id"] for r in requests)
    machine_states = [e.data for e in heard if e.name == events.MACHINE_STATE]
    assert machine_states and all("state" in d and "job_id" in d for d in machine_states)


def test_progress_never_goes_back_and_survives_a_cancel(lab: Lab, tmp_path: Path) -> None:
    """A machine that stops reports 0 %: the job keeps how far it got."""
    machine = lab.machine("any")
    job_id = lab.submit("lea", gcode(tmp_path / "a.gcode"), kind="printer")
    lab.approve(job_id)
    with session_scope(lab.context.sessions) as session:
        job = session.get(Job, job_id)
        assert job is not None
        job.state, job.machine_id, job.requested_action = JobState.RUNNING.value, machine, "cancel"
        row = session.get(Machine, machine)
        assert row is not None
        row.current_job_id = job_id
    with session_scope(lab.context.sessions) as session:
        _progress(session, job_id, 0.21)
    with session_scope(lab.context.sessions) as session:
        _progress(session, job_id, 0.0)
    with session_scope(lab.context.sessions) as session:
        _finish(session, job_id, machine, Outcome(JobState.CANCELLED), 12.0)
    job = lab.job(job_id)
    assert job.state == "cancelled" and job.progress == 0.21


def test_an_event_off_its_shape_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus(check=shape_errors)
    with caplog.at_level(logging.ERROR, logger="fablabctl.event_bus"):
        bus.publish(events.JOB_STATE, {"job_id": 1, "requested": "cancel"})
        bus.publish(events.MACHINE_STATE, events.machine_state(1, "idle", None))
    assert [r.getMessage() for r in caplog.records] == [
        "event does not match its documented shape: notify_job_state_changed: missing 'actor_id'",
        "event does not match its documented shape: notify_job_state_changed: missing 'from_state'",
        "event does not match its documented shape: notify_job_state_changed: missing 'machine_id'",
        "event does not match its documented shape: notify_job_state_changed: missing 'to_state'",
    ]


def test_reasons_render_in_each_language_and_fall_back_to_typed_text() -> None:
    assert render("INTERNAL_ERROR", {"kind": "KeyError"}, "x", "en") == (
        "internal service error (KeyError): see the service log"
    )
    assert render(None, None, "mauvais filament", "en") == "mauvais filament"
    machine = {"fr": "OctoPrint a redémarré à 10:12", "en": "OctoPrint restarted at 10:12"}
    assert render("MACHINE_FAILED", machine, None, "fr") == "OctoPrint a redémarré à 10:12"
    assert render(
        "OCTOPRINT_RESTARTED", {"fr": "OctoPrint a redémarré", "en": "OctoPrint restarted"}, None, "en"
    ) == ("OctoPrint restarted")


def test_the_file_sent_to_a_machine_is_named_after_the_job_and_design() -> None:
    assert job_file_name(42, "Nichoir façade.stl", ".gcode") == "job-42-nichoir-facade.gcode"
    assert job_file_name(7, "../../etc/passwd", ".nc") == "job-7-passwd.nc"
    assert job_file_name(8, "été★.dxf", ".nc") == "job-8-ete.nc"
    assert job_file_name(9, "★.stl", ".gcode") == "job-9.gcode"


def test_blocked_update_runs_without_a_dispatcher(lab: Lab, tmp_path: Path) -> None:
    """`update_blocked` alone (as the dispatcher calls it): every machine of a kind in maintenance."""
    printer = lab.machine("resting")
    lab.call("admin", "PATCH", f"/machines/{printer}", json={"maintenance": True})
    job_id = lab.submit("lea", gcode(tmp_path / "m.gcode"), kind="printer")
    lab.approve(job_id)
    with session_scope(lab.context.sessions) as session:
        assert update_blocked(session) == 1
    with session_scope(lab.context.sessions) as session:
        assert update_blocked(session) == 0  # unchanged: nothing written, nothing announced
    assert lab.job(job_id).reason_code == "MACHINES_IN_MAINTENANCE"
    lab.call("admin", "PATCH", f"/machines/{printer}", json={"maintenance": False})
    with session_scope(lab.context.sessions) as session:
        assert update_blocked(session) == 1
    assert lab.job(job_id).reason_code is None
