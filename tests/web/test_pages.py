"""Pages without a browser: login and language, CSRF on every POST, roles, privacy, CSP-clean HTML."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from tests.web.conftest import PASSWORD, csrf_of
from tests.web.meshes import cube_stl

PAGES = {
    "tigiste": ["/mine"],
    "trainer": ["/trainer", "/operator", "/mine"],
    "operator": ["/operator", "/mine"],
    "admin": ["/trainer", "/operator", "/admin/users", "/admin/audit", "/admin/audit?action=auth."],
}


def test_home_sends_to_login_in_french_by_default(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    page = client.get("/login")
    assert '<html lang="fr">' in page.text and "Se connecter" in page.text


def test_language_from_the_browser_then_from_the_switch(client: TestClient) -> None:
    assert "Log in" in client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).text
    switch = client.get("/lang/en?next=/login", follow_redirects=False)
    assert switch.status_code == 303 and switch.headers["location"] == "/login"
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "fr"}).text
    client.get("/lang/fr?next=//evil.example")  # only a local path is followed
    assert client.get("/lang/fr?next=//evil.example", follow_redirects=False).headers["location"] == "/"


def test_login_errors_next_to_the_field_in_french(client: TestClient, user_ids: dict[str, int]) -> None:
    token = csrf_of(client.get("/login").text)
    page = client.post("/login", data={"username": "tigiste", "password": "wrong", "csrf": token})
    assert page.status_code == 400
    assert 'id="password-error"' in page.text and "Identifiant ou mot de passe incorrect" in page.text
    empty = client.post("/login", data={"username": "", "password": "", "csrf": token})
    assert "Indiquez votre identifiant" in empty.text and "Indiquez votre mot de passe" in empty.text


def test_login_without_csrf_is_refused(client: TestClient, user_ids: dict[str, int]) -> None:
    client.get("/login")
    response = client.post(
        "/login", data={"username": "tigiste", "password": PASSWORD, "csrf": "forged"}, follow_redirects=False
    )
    assert response.status_code == 303 and "fablab_session" not in response.cookies


def test_each_role_lands_on_its_page(log_in: Callable[[str], str], client: TestClient) -> None:
    for name, home in (("tigiste", "/mine"), ("trainer", "/trainer"), ("operator", "/operator")):
        log_in(name)
        assert client.get("/", follow_redirects=False).headers["location"] == home


def test_every_post_needs_the_session_token(log_in: Callable[[str], str], client: TestClient) -> None:
    token = log_in("tigiste")
    design = cube_stl(Path(client.app.state.context.settings.data_dir) / "c.stl", 10.0)  # type: ignore[attr-defined]
    with design.open("rb") as f:
        forged = client.post("/designs/upload", files={"file": ("c.stl", f)}, headers={"X-CSRF-Token": "x"})
    assert forged.status_code == 403 and forged.json()["code"] == "CSRF_FAILED"
    with design.open("rb") as f:
        made = client.post("/designs/upload", files={"file": ("c.stl", f)}, headers={"X-CSRF-Token": token})
    assert made.status_code == 201
    url = made.json()["url"]
    with design.open("rb") as f:  # the plain form, without JavaScript: token in the address
        plain = client.post(
            f"/designs/upload?csrf={token}", files={"file": ("c.stl", f)}, follow_redirects=False
        )
    assert plain.status_code == 303 and plain.headers["location"].startswith("/designs/")
    with design.open("rb") as f:
        refused = client.post("/designs/upload", files={"file": ("c.stl", f)}, follow_redirects=False)
    assert refused.status_code == 303 and not refused.headers["location"].startswith("/designs/")
    logout = client.post("/logout", data={"csrf": "forged"}, follow_redirects=False)
    assert logout.status_code == 303 and client.get(url).status_code == 200  # still logged in
    client.post("/logout", data={"csrf": token})
    assert client.get(url, follow_redirects=False).headers["location"].startswith("/login")


def test_roles_and_privacy_as_pages_not_json(log_in: Callable[[str], str], client: TestClient) -> None:
    token = log_in("tigiste")
    with cube_stl(Path(client.app.state.context.settings.data_dir) / "c.stl", 10.0).open("rb") as f:  # type: ignore[attr-defined]
        url = client.post(
            "/designs/upload", files={"file": ("c.stl", f)}, headers={"X-CSRF-Token": token}
        ).json()["url"]
    trainer_page = client.get("/trainer")
    assert trainer_page.status_code == 403 and "text/html" in trainer_page.headers["content-type"]
    log_in("tigiste2")
    for path in (url, f"{url}/mesh.bin", f"{url}/problems.json"):
        assert client.get(path).status_code == 404, path


def test_pages_have_no_inline_script_style_or_handler(
    log_in: Callable[[str], str], client: TestClient
) -> None:
    """So a strict Content-Security-Policy (default-src 'self') never breaks them."""
    for role, paths in PAGES.items():
        log_in(role)
        for path in paths:
            html = client.get(path).text
            assert client.get(path).status_code == 200, (role, path)
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), (role, path)
            assert not re.search(r"\sstyle=", html), (role, path)
            assert not re.search(r"\son[a-z]+=", html), (role, path)
            assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html, (
                role,
                path,
            )


def test_admin_form_errors_next_to_the_field(log_in: Callable[[str], str], client: TestClient) -> None:
    token = log_in("admin")
    page = client.post(
        "/admin/users",
        data={"csrf": token, "username": "a b", "display_name": "", "role": "tigiste", "password": "x"},
    )
    assert page.status_code == 400
    for field in ("username", "display_name", "password"):
        assert f'id="new-{field}-error"' in page.text, field
    assert "lettres, chiffres" in page.text
    made = client.post(
        "/admin/users",
        data={
            "csrf": token,
            "username": "zoe",
            "display_name": "Zoé",
            "role": "tigiste",
            "password": PASSWORD,
        },
        follow_redirects=False,
    )
    assert made.status_code == 303
    assert "Zoé" in client.get("/admin/users").text
    assert "user.create" in client.get("/admin/audit?action=user.").text


def test_operator_sets_the_loaded_material_and_maintenance(
    log_in: Callable[[str], str], client: TestClient
) -> None:
    from fablabctl.db.engine import session_scope
    from fablabctl.db.models import Machine
    from fablabctl.fleet.schemas import MachineCreate
    from fablabctl.fleet.service import create_machine

    context = client.app.state.context  # type: ignore[attr-defined]
    with session_scope(context.sessions) as session:
        machine = create_machine(
            session=session,
            actor=None,
            data=MachineCreate(
                name="prusa",
                kind="printer",
                driver="marlin",
                bed_x_mm=250,
                bed_y_mm=210,
                bed_z_mm=210,
                materials=["PLA"],
            ),
            default_site=context.settings.site,
        )
        machine_id = machine.id
    token = log_in("operator")
    assert "Réglages de la machine" in client.get("/operator").text
    client.post(
        f"/operator/machines/{machine_id}/settings",
        data={"csrf": token, "loaded_material": "PLA", "maintenance": "1"},
    )
    with session_scope(context.sessions) as session:
        row = session.get(Machine, machine_id)
        assert (
            row is not None
            and row.loaded_material == "PLA"
            and row.maintenance
            and not row.confirm_before_start
        )


def test_the_dxf_report_marks_the_open_contour_on_the_drawing(
    log_in: Callable[[str], str], client: TestClient, tmp_path: Path
) -> None:
    import ezdxf

    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 4
    doc.layers.add("CUT", color=1)
    doc.modelspace().add_lwpolyline(
        [(10, 10), (60, 10), (60, 60), (10, 60), (10, 12)], dxfattribs={"layer": "CUT"}
    )
    doc.saveas(tmp_path / "open.dxf")
    token = log_in("tigiste")
    with (tmp_path / "open.dxf").open("rb") as f:
        url = client.post(
            "/designs/upload", files={"file": ("boite.dxf", f)}, headers={"X-CSRF-Token": token}
        )
    page = client.get(url.json()["url"]).text
    assert '<svg viewBox="0 0' in page and 'class="op-cut open"' in page
    assert 'class="marker error"' in page and "Contour ouvert sur le calque de découpe" in page
    assert 'class="marker-num"' in page  # the same number in the list as on the drawing


def test_a_rejected_job_shows_its_reason_to_the_tigiste(
    log_in: Callable[[str], str], client: TestClient
) -> None:
    token = log_in("tigiste")
    with cube_stl(Path(client.app.state.context.settings.data_dir) / "c.stl", 10.0).open("rb") as f:  # type: ignore[attr-defined]
        url = client.post(
            "/designs/upload", files={"file": ("c.stl", f)}, headers={"X-CSRF-Token": token}
        ).json()["url"]
    submitted = client.post(f"{url}/submit", data={"csrf": token, "material": "PLA"}, follow_redirects=False)
    job_url = submitted.headers["location"]
    assert job_url.startswith("/jobs/") and "En attente de validation" in client.get(job_url).text
    token = log_in("trainer")
    assert "c.stl" in client.get("/trainer").text
    short = client.post(f"{job_url}/reject", data={"csrf": token, "reason": "no", "next": "/trainer"})
    assert "Donnez une raison" in short.text and "c.stl" in short.text  # still waiting
    client.post(
        f"{job_url}/reject", data={"csrf": token, "reason": "Trop grand pour la ruche", "next": "/trainer"}
    )
    log_in("tigiste")
    page = client.get(job_url).text
    assert "Refusé" in page and "Trop grand pour la ruche" in page


def page_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every page route (PageRoute: not the API, not static files)."""
    from fablabctl.web.pages.core import PageRoute

    found: list[tuple[str, str]] = []

    def walk(routes: object) -> None:
        for route in routes:  # type: ignore[attr-defined]
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(inner.routes)
            elif isinstance(route, PageRoute):
                found.extend((m, route.path) for m in sorted(route.methods) if m in ("GET", "POST"))

    walk(client.app.router.routes)  # type: ignore[attr-defined]
    return found


HUGE_IDS = ("99999999999999999999", "424242")  # past 2^63 (no row can have it), unknown
WORDS = {"move": "in", "code": "fr", "action": "cancel", "ref": "abc"}  # the path's other parts


def test_numbers_no_row_can_have_give_a_page_or_a_message_never_json_or_500(
    log_in: Callable[[str], str], client: TestClient
) -> None:
    """Every page, GET and POST, with ids past 2^63, negative or unknown, in the path and in the form."""
    routes = page_routes(client)
    assert len(routes) > 30
    for name in ("admin", "tigiste"):
        token = log_in(name)
        for method, path in routes:
            if path in ("/logout", "/login", "/lang/{code}"):
                continue
            for number in HUGE_IDS:
                url = re.sub(r"{(\w+)(?::\w+)?}", lambda m, n=number: WORDS.get(m.group(1), n), path)
                form = {"csrf": token, "user_id": number, "priority": number, "quantity": number}
                response = client.request(
                    method, url, data=form if method == "POST" else None, follow_redirects=False
                )
                where = f"{name} {method} {url}: {response.status_code} {response.text[:200]}"
                assert response.status_code < 500, where
                assert "json" not in response.headers.get("content-type", "") or url.endswith(".json"), where
                assert (
                    response.status_code == 303
                    or "text/html" in response.headers["content-type"]
                    or (url.endswith((".json", ".bin")) and response.status_code == 404)
                ), where


def test_the_repair_button_makes_a_new_design_through_the_upload_path(
    log_in: Callable[[str], str], client: TestClient, tmp_path: Path
) -> None:
    from tests.validation import cases

    token = log_in("tigiste")
    broken = cases.open_box(tmp_path / "ouvert.stl").read_bytes()
    made = client.post(
        "/designs/upload", files={"file": ("ouvert.stl", broken)}, headers={"X-CSRF-Token": token}
    )
    url = made.json()["url"]
    repaired = client.post(f"{url}/repair", data={"csrf": token}, follow_redirects=False)
    assert repaired.status_code == 303, repaired.text
    assert repaired.headers["location"].startswith("/designs/") and repaired.headers["location"] != url
    assert "ouvert-repare.stl" in client.get(repaired.headers["location"]).text
    again = client.post(f"{url}/repair", data={"csrf": "forged"}, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] != repaired.headers["location"]
