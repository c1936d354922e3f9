"""The dispatcher end to end on simulated machines: from approval to a finished part, and everything
staff can do on the way (confirm, pause, cancel, print again), with records and odometers."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from fablabctl.db.engine import session_scope
from fablabctl.db.models import JobEvent, Machine
from tests.queue.conftest import Lab, gcode
from tests.validation import cases


def states(lab: Lab, job_id: int) -> list[str]:
    with session_scope(lab.context.sessions) as session:
        return list(
            session.scalars(select(JobEvent.to_state).where(JobEvent.job_id == job_id).order_by(JobEvent.id))
        )


def test_a_gcode_job_runs_to_done_with_records(lab: Lab, tmp_path: Path) -> None:
    machine = lab.machine("prusa-sim")
    job_id = lab.submit("lea", gcode(tmp_path / "bracket.gcode"), kind="printer")
    lab.approve(job_id)
    lab.run_until(lambda: lab.job(job_id).state == "done")
    assert states(lab, job_id) == ["submitted", "approved", "queued", "preparing", "running", "done"]
    job = lab.job(job_id)
    assert job.machine_id == machine and job.progress == 1.0 and job.machine_seconds > 0
    assert job.estimates["duration_s"] > 0 and Path(job.gcode_path).name == f"job-{job_id}-bracket.gcode"
    # the copy named after the design goes once the job has ended (its name may carry a person's name)
    lab.run_until(lambda: not Path(job.gcode_path).exists())
    assert not list((lab.context.settings.cache_dir / "jobs").glob(f"job-{job_id}-*"))
    with session_scope(lab.context.sessions) as session:
        row = session.get(Machine, machine)
        assert row is not None and row.jobs_done == 1 and row.current_job_id is None and row.run_seconds > 0
    history = lab.call("lea", "GET", "/jobs/history")
    assert (
        history[0]["job_id"] == job_id
        and history[0]["outcome"] == "done"
        and history[0]["machine"] == "prusa-sim"
    )
    stats = lab.call("trainer", "GET", "/machines/stats")
    assert stats[0]["jobs_done"] == 1


def test_stl_is_sliced_and_dxf_is_cut(lab: Lab, tmp_path: Path) -> None:
    lab.machine("printer-sim")
    lab.machine("laser-sim", kind="laser")
    stl_job = lab.submit("lea", cases.stl_box(tmp_path / "cale.stl", (8, 8, 2)))
    dxf_job = lab.submit("sam", cases.dxf_good_panel(tmp_path / "panneau.dxf"), material="plywood-poplar-3mm")
    lab.approve(stl_job)
    lab.approve(dxf_job)
    lab.run_until(lambda: {lab.job(stl_job).state, lab.job(dxf_job).state} == {"done"}, timeout=40)
    assert lab.job(stl_job).settings["slicer"] == "PrusaSlicer"
    assert lab.job(dxf_job).estimates["cut_length_mm"] > 400


def test_operator_confirms_before_the_machine_starts(lab: Lab, tmp_path: Path) -> None:
    lab.machine("careful", confirm=True)
    job_id = lab.submit("lea", gcode(tmp_path / "a.gcode"), kind="printer")
    lab.approve(job_id)

    def confirm_when_asked() -> None:
        job = lab.job(job_id)
        if job.state == "waiting_operator" and job.requested_action is None:
            lab.call("trainer", "POST", f"/jobs/{job_id}/confirm")

    lab.run_until(lambda: lab.job(job_id).state == "done", during=confirm_when_asked)
    assert "waiting_operator" in states(lab, job_id)


def test_cancel_a_running_job_then_print_again(lab: Lab, tmp_path: Path) -> None:
    machine = lab.machine("busy")
    job_id = lab.submit("lea", gcode(tmp_path / "long.gcode", 20000), kind="printer")
    lab.approve(job_id)

    def cancel_when_running() -> None:
        if lab.job(job_id).state == "running" and lab.job(job_id).requested_action is None:
            lab.call("trainer", "POST", f"/jobs/{job_id}/cancel", json={"reason": "mauvais filament"})

    lab.run_until(lambda: lab.job(job_id).state == "cancelled", during=cancel_when_running)
    assert lab.job(job_id).reason == "mauvais filament"
    again = lab.call("trainer", "POST", f"/jobs/{job_id}/retry")
    assert again["attempt_of_id"] == job_id and again["state"] == "queued"
    with session_scope(lab.context.sessions) as session:
        row = session.get(Machine, machine)
        assert row is not None and row.current_job_id is None


def test_pause_and_resume(lab: Lab, tmp_path: Path) -> None:
    lab.machine("pausable")
    job_id = lab.submit("lea", gcode(tmp_path / "p.gcode", 20000), kind="printer")
    lab.approve(job_id)
    seen: list[str] = []

    def drive() -> None:
        job = lab.job(job_id)  # state and request read together: two reads could straddle the pause
        state = job.state
        if state == "running" and "paused" not in seen and job.requested_action is None:
            lab.call("trainer", "POST", f"/jobs/{job_id}/pause")
        if state == "paused" and "paused" not in seen:
            seen.append("paused")
            lab.call("trainer", "POST", f"/jobs/{job_id}/resume")

    lab.run_until(lambda: lab.job(job_id).state == "done", during=drive, timeout=90)
    assert states(lab, job_id)[-4:] == ["running", "paused", "running", "done"]
    assert lab.job(job_id).machine_seconds > 0


def test_quantity_makes_runs_spread_over_machines(lab: Lab, tmp_path: Path) -> None:
    first, second = lab.machine("p1"), lab.machine("p2")
    job_id = lab.submit("lea", gcode(tmp_path / "x.gcode"), kind="printer", quantity=3)
    lab.approve(job_id)
    runs = [
        j["id"] for j in lab.call("trainer", "GET", "/jobs") if j["run_of_id"] == job_id or j["id"] == job_id
    ]
    assert len(runs) == 3
    lab.run_until(lambda: all(lab.job(r).state == "done" for r in runs))
    assert {lab.job(r).machine_id for r in runs} == {first, second}


def test_unsafe_gcode_fails_at_preparation_with_the_reason(lab: Lab, tmp_path: Path) -> None:
    strict = lab.machine("strict", max_hotend_c=220)
    lab.machine("tolerant")  # upload is checked against every printer: it fits this one
    path = tmp_path / "hot.gcode"
    path.write_text("M104 S240\nG1 X10 E1 F600\n")
    job_id = lab.submit("trainer", path, kind="printer", pinned_machine_id=strict)
    lab.approve(job_id)
    lab.run_until(lambda: lab.job(job_id).state == "failed")
    job = lab.job(job_id)
    assert job.reason_code == "GCODE_REFUSED" and "safety policy" in (job.reason_params or {})["en"]
    assert states(lab, job_id)[-2:] == ["preparing", "failed"]


def test_the_event_bus_tells_the_story(lab: Lab, tmp_path: Path) -> None:
    """What a live page hears while a job runs: state changes, progress, temperatures (Moonraker names)."""
    import asyncio

    from fablabctl.queue import events
    from fablabctl.queue.dispatcher import Dispatcher

    lab.machine("talkative")
    job_id = lab.submit("lea", gcode(tmp_path / "t.gcode", 3000), kind="printer")
    lab.approve(job_id)
    heard: list[tuple[str, dict[str, object]]] = []

    async def main() -> None:
        dispatcher = Dispatcher(lab.context)
        async with lab.context.bus.subscribe() as sub:
            task = asyncio.create_task(dispatcher.run())
            try:
                while not any(
                    name == events.JOB_STATE and data.get("to_state") == "done" for name, data in heard
                ):
                    item = await asyncio.wait_for(sub.get(), 30)
                    heard.append((item.name, item.data))
            finally:
                await dispatcher.stop()
                task.cancel()

    asyncio.run(main())
    transitions = [
        d["to_state"]
        for n, d in heard
        if n == events.JOB_STATE and d.get("job_id") == job_id and "requested" not in d
    ]
    assert transitions == ["preparing", "running", "done"]
    assert any(n == events.JOB_PROGRESS for n, _ in heard)
    assert any(n == events.MACHINE_TEMPERATURES and "hotend" in d for n, d in heard)
