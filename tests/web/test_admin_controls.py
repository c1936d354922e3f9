"""The trainer's priority, the admin's materials and run-time settings, CSRF on cookie-authenticated
API writes, the HTML 404, and the machine controls' refusals, through a real ASGI client (SQLite)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from fablabctl.db.engine import session_scope
from fablabctl.db.models import AuditEntry, Job
from fablabctl.queue import scheduler
from fablabctl.toolpath.materials import load_materials
from tests.web.conftest import PASSWORD, csrf_of
from tests.web.meshes import cube_stl

Headers = Callable[[str], dict[str, str]]


def _context(client: TestClient) -> Any:
    return client.app.state.context  # type: ignore[attr-defined]


def _bearer(client: TestClient, name: str) -> dict[str, str]:
    token = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD}).json()["token"]
    client.cookies.clear()
    return {"Authorization": f"Bearer {token}"}


def _submitted_job(client: TestClient, tigiste: dict[str, str], size: float = 10.0) -> int:
    data = Path(_context(client).settings.data_dir)
    with cube_stl(data / f"c{size}.stl", size).open("rb") as f:
        design = client.post("/api/v1/designs", files={"file": ("c.stl", f)}, headers=tigiste).json()
    job = client.post("/api/v1/jobs", json={"design_id": design["id"], "material": "PLA"}, headers=tigiste)
    assert job.status_code == 201, job.text
    return int(job.json()["id"])


def _audit(client: TestClient, action: str) -> list[AuditEntry]:
    with session_scope(_context(client).sessions) as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        session.expunge_all()
        return rows


# ---------------------------------------------------------------------- CSRF and 404


def test_cookie_writes_to_the_api_need_the_csrf_header(
    log_in: Callable[[str], str], client: TestClient, user_ids: dict[str, int]
) -> None:
    tigiste = _bearer(client, "tigiste")
    job_id = _submitted_job(client, tigiste)
    token = log_in("trainer")  # the browser's session: a cookie, and the page's token
    assert client.get(f"/api/v1/jobs/{job_id}").status_code == 200  # reads need no token
    forged = client.post(f"/api/v1/jobs/{job_id}/approve")
    assert forged.status_code == 403 and forged.json()["code"] == "CSRF_FAILED"
    assert "rechargez" in forged.json()["message"]
    wrong = client.post(f"/api/v1/jobs/{job_id}/approve", headers={"X-CSRF-Token": "0" * 40})
    assert wrong.status_code == 403
    with session_scope(_context(client).sessions) as session:
        assert session.get(Job, job_id).state == "submitted"  # type: ignore[union-attr]
    done = client.post(f"/api/v1/jobs/{job_id}/approve", headers={"X-CSRF-Token": token})
    assert done.status_code == 200 and done.json()["state"] == "queued"
    # a bearer token is not a browser's ambient credential: no CSRF header asked
    client.cookies.clear()
    trainer = _bearer(client, "trainer")
    other = _submitted_job(client, tigiste, 12.0)
    assert client.post(f"/api/v1/jobs/{other}/approve", headers=trainer).status_code == 200


def test_unknown_pages_are_a_page_for_browsers_and_json_for_the_api(client: TestClient) -> None:
    html = {"Accept": "text/html,application/xhtml+xml"}
    page = client.get("/nulle-part", headers=html)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in page.text and "Cette adresse n&#39;existe pas" in page.text
    english = client.get("/nowhere", headers={**html, "Accept-Language": "en"})
    assert english.status_code == 404 and "This address does not exist" in english.text
    api = client.get("/api/v1/nulle-part", headers=html)
    assert api.status_code == 404 and api.json()["code"] == "NOT_FOUND"
    plain = client.get("/nulle-part")
    assert plain.status_code == 404 and plain.json()["code"] == "NOT_FOUND"
    assert client.post("/nulle-part", headers=html).headers["content-type"].startswith("application/json")


# ---------------------------------------------------------------------- priority


def test_trainers_set_a_priority_the_scheduler_serves_first(
    client: TestClient, user_ids: dict[str, int]
) -> None:
    tigiste, trainer = _bearer(client, "tigiste"), _bearer(client, "trainer")
    first, second = _submitted_job(client, tigiste, 10.0), _submitted_job(client, tigiste, 11.0)
    for job_id in (first, second):
        client.post(f"/api/v1/jobs/{job_id}/approve", headers=trainer)
    raised = client.post(f"/api/v1/jobs/{second}/priority", json={"priority": 5}, headers=trainer)
    assert raised.status_code == 200 and raised.json()["priority"] == 5
    entry = _audit(client, "job.priority")[-1]
    assert entry.target_id == str(second) and entry.detail == {"before": 0, "after": 5}
    with session_scope(_context(client).sessions) as session:
        rows = list(session.scalars(select(Job).where(Job.state == "queued")))
        table = scheduler.JobTable(
            [
                scheduler.QueuedJob(
                    j.id, j.kind, j.material, (10, 10, 10), j.priority, j.owner_id, None, j.id
                )
                for j in rows
            ]
        )
    one_printer = [scheduler.MachineSlot(1, "printer", True, (200, 200, 200))]
    assert [a.job_id for a in scheduler.schedule(table, one_printer).assignments] == [second]
    for who, status in (("tigiste", 403), ("operator", 403)):
        refused = client.post(
            f"/api/v1/jobs/{first}/priority", json={"priority": 3}, headers=_bearer(client, who)
        )
        assert refused.status_code == status, who
    bad = client.post(f"/api/v1/jobs/{first}/priority", json={"priority": 11}, headers=trainer)
    assert bad.status_code == 422
    client.post(f"/api/v1/jobs/{first}/cancel", headers=trainer)
    late = client.post(f"/api/v1/jobs/{first}/priority", json={"priority": 3}, headers=trainer)
    assert late.status_code == 409 and late.json()["code"] == "JOB_PRIORITY_LOCKED"


def test_the_dashboard_changes_a_priority(
    log_in: Callable[[str], str], client: TestClient, user_ids: dict[str, int]
) -> None:
    job_id = _submitted_job(client, _bearer(client, "tigiste"))
    token = log_in("trainer")
    page = client.get("/trainer").text
    assert f'id="priority-{job_id}"' in page and "Changer la priorité" in page
    done = client.post(
        f"/jobs/{job_id}/priority",
        data={"csrf": token, "priority": "2", "next": "/trainer"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/trainer"
    assert "Priorité changée : +2" in client.get("/trainer").text
    with session_scope(_context(client).sessions) as session:
        assert session.get(Job, job_id).priority == 2  # type: ignore[union-attr]
    log_in("operator")
    refused = client.post(
        f"/jobs/{job_id}/priority", data={"csrf": csrf_of(client.get("/operator").text), "priority": "5"}
    )
    assert "pas le droit" in refused.text


# ---------------------------------------------------------------------- materials


def _material_form(token: str, **fields: str) -> dict[str, str]:
    return {
        "csrf": token,
        "key": "carton-2mm",
        "name_fr": "Carton 2 mm",
        "name_en": "Cardboard 2 mm",
        "thickness_mm": "2",
        "kerf_mm": "0,1",
        "cut_speed": "600",
        "cut_power": "80",
        "cut_passes": "1",
        "source_diode": "1",
        **fields,
    }


def test_admin_adds_edits_and_disables_a_material(
    log_in: Callable[[str], str], client: TestClient, user_ids: dict[str, int]
) -> None:
    token = log_in("admin")
    page = client.get("/admin/materials")
    assert page.status_code == 200 and "Contreplaqué peuplier 3 mm" in page.text  # seeded from the file
    made = client.post("/admin/materials", data=_material_form(token), follow_redirects=False)
    assert made.status_code == 303
    site_file = Path(_context(client).settings.data_dir) / "materials.toml"
    carton = load_materials(site_file)["carton-2mm"]  # what preparation reads
    assert carton.settings["cut"].power == 0.8 and carton.kerf_mm == 0.1 and carton.sources == ("diode",)
    bad = client.post(
        "/admin/materials", data=_material_form(token, key="Mauvais nom", cut_power="150", name_fr="")
    )
    assert bad.status_code == 400
    for field in ("key", "cut_power", "name_fr"):
        assert f'id="new-{field}-error"' in bad.text, field
    assert "Un nombre entre 0 et 100" in bad.text
    again = client.post("/admin/materials", data=_material_form(token), follow_redirects=False)
    assert again.status_code == 303 and "existe déjà" in client.get("/admin/materials").text
    listing = client.get("/admin/materials").text
    keys = re.findall(r'data-material="([^"]+)"', listing)
    forms = [int(i) for i in re.findall(r'action="/admin/materials/(\d+)/active"', listing)]
    ids = dict(zip(keys, forms, strict=True))
    assert "carton-2mm" in ids
    client.post(f"/admin/materials/{ids['carton-2mm']}", data=_material_form(token, cut_speed="450"))
    assert load_materials(site_file)["carton-2mm"].settings["cut"].speed == 450
    client.post(f"/admin/materials/{ids['carton-2mm']}/active", data={"csrf": token, "active": "0"})
    assert "carton-2mm" not in load_materials(site_file)
    assert "Désactivé" in client.get("/admin/materials").text
    actions = [e.action for e in _audit(client, "material.create") + _audit(client, "material.update")]
    assert actions == ["material.create", "material.update"] and _audit(client, "material.disable")
    # a disabled material is refused at submission, with a reason
    client.post(f"/admin/materials/{ids['plywood-poplar-3mm']}/active", data={"csrf": token, "active": "0"})
    client.cookies.clear()
    tigiste = _bearer(client, "tigiste")
    data = Path(_context(client).settings.data_dir)
    with cube_stl(data / "c.stl", 10.0).open("rb") as f:
        design = client.post("/api/v1/designs", files={"file": ("c.stl", f)}, headers=tigiste).json()
    refused = client.post(
        "/api/v1/jobs", json={"design_id": design["id"], "material": "plywood-poplar-3mm"}, headers=tigiste
    )
    assert refused.status_code == 422 and refused.json()["code"] == "MATERIAL_DISABLED"
    log_in("trainer")
    assert client.get("/admin/materials").status_code == 403


# ---------------------------------------------------------------------- run-time settings


def _settings_form(token: str, **fields: str) -> dict[str, str]:
    form = {
        "csrf": token,
        "hours_rounding_minutes": "15",
        "daily_max_hours": "8",
        "absence_grace_minutes": "30",
        "retention_days": "365",
        "smtp_host": "",
        "smtp_port": "25",
        "smtp_user": "",
        "smtp_password": "",
        "smtp_from": "fablab@localhost",
        "structure_name": "Fab Lab",
        "structure_address": "",
    }
    return {**form, **fields}


def test_admin_changes_run_time_settings_at_once(
    log_in: Callable[[str], str], client: TestClient, user_ids: dict[str, int]
) -> None:
    context = _context(client)
    token = log_in("admin")
    assert "FABLAB_HOURS_ROUNDING_MINUTES" in client.get("/admin/settings").text
    saved = client.post(
        "/admin/settings",
        data=_settings_form(
            token, hours_rounding_minutes="5", smtp_host="smtp.example.org", smtp_password="s3cret"
        ),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert context.settings.hours_rounding_minutes == 5 and context.settings.smtp_host == "smtp.example.org"
    assert context.settings.smtp_password == "s3cret"
    page = client.get("/admin/settings").text
    assert "s3cret" not in page and "modifié" in page
    changes = {e.target_id for e in _audit(client, "setting.change")}
    assert changes == {"hours_rounding_minutes", "smtp_host", "smtp_password"}  # only what changed
    assert all("s3cret" not in str(e.detail) for e in _audit(client, "setting.change"))
    kept = client.post("/admin/settings", data=_settings_form(token, hours_rounding_minutes="5"))
    assert kept.status_code == 200 and context.settings.smtp_password == "s3cret"  # empty secret: kept
    bad = client.post("/admin/settings", data=_settings_form(token, daily_max_hours="30", smtp_port="x"))
    assert bad.status_code == 400
    assert 'id="s-daily_max_hours-error"' in bad.text and 'id="s-smtp_port-error"' in bad.text
    assert context.settings.daily_max_hours == 8
    # a new app on the same database (the CLI, another process) starts with the same values
    from fablabctl.web.app import create_app

    create_app(context.settings.model_copy(update={"hours_rounding_minutes": 15}), context=context)
    assert context.settings.hours_rounding_minutes == 5
    reset = client.post(
        "/admin/settings",
        data=_settings_form(token, hours_rounding_minutes="5", reset_hours_rounding_minutes="1"),
    )
    assert reset.status_code == 200 and context.settings.hours_rounding_minutes == 15
    assert _audit(client, "setting.reset")
    log_in("trainer")
    assert client.get("/admin/settings").status_code == 403
    refused = client.post(
        "/admin/settings", data=_settings_form(csrf_of(client.get("/trainer").text), retention_days="1")
    )
    assert "pas le droit" in refused.text and context.settings.retention_days == 365


# ---------------------------------------------------------------------- machine controls, refused


def test_machine_controls_say_when_this_process_cannot_reach_the_machine(
    client: TestClient, user_ids: dict[str, int]
) -> None:
    from fablabctl.fleet.schemas import MachineCreate
    from fablabctl.fleet.service import create_machine

    context = _context(client)
    with session_scope(context.sessions) as session:
        machine = create_machine(
            session=session,
            actor=None,
            data=MachineCreate(name="laser", kind="laser", driver="grbl", bed_x_mm=400, bed_y_mm=300),
            default_site=context.settings.site,
        )
        machine_id = machine.id
    operator = _bearer(client, "operator")
    nowhere = client.post(f"/api/v1/machines/{machine_id}/emergency-stop", headers=operator)
    assert nowhere.status_code == 409 and nowhere.json()["code"] == "ESTOP_NOT_REACHED"
    assert "coupez l'alimentation" in nowhere.json()["message"]
    assert client.post("/api/v1/machines/emergency-stop", headers=operator).status_code == 409
    assert client.post("/api/v1/machines/999/emergency-stop", headers=operator).status_code == 404
    tigiste = _bearer(client, "tigiste")
    assert client.post("/api/v1/machines/emergency-stop", headers=tigiste).status_code == 403
    job_id = _submitted_job(client, tigiste)
    early = client.post(f"/api/v1/jobs/{job_id}/framing", headers=operator)
    assert early.status_code == 409 and early.json()["code"] == "FRAMING_NOT_WAITING"
    assert (
        client.post(f"/api/v1/jobs/{job_id}/framing", json={"power": 0.5}, headers=operator).status_code
        == 422
    )
    assert client.post(f"/api/v1/jobs/{job_id}/framing", headers=tigiste).status_code == 403
