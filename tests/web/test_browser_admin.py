"""In a real browser (Debian's chromium, Playwright) against `fablabctl serve` in demo mode: the
trainer's priority control, laser framing from the operator's page, the admin's material library and
run-time settings, and the 404 page. Fails if a page contacts another host or breaks the CSP;
screenshots at 1280x800 and phone size go to `var/screenshots/`."""

from __future__ import annotations

from pathlib import Path

import ezdxf
import pytest
from playwright import sync_api

from tests.web.meshes import cube_stl
from tests.web.test_browser import CHROMIUM, USER_PASSWORD, Service, login, service, shoot

__all__ = ["service"]  # the fixture: the demo service with Léa, Marc (trainer) and Olga (operator)


def _panel(path: Path) -> Path:
    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 4
    doc.layers.add("CUT", color=1)
    doc.modelspace().add_lwpolyline(
        [(20, 20), (90, 20), (90, 70), (20, 70)], close=True, dxfattribs={"layer": "CUT"}
    )
    doc.saveas(path)
    return path


def _upload(service: Service, path: Path) -> int:
    with path.open("rb") as f:
        design = service.call("POST", "/designs", files={"file": (path.name, f)})
    return int(design["id"])


@pytest.mark.slow
def test_priority_framing_materials_settings_in_a_browser(service: Service, tmp_path: Path) -> None:
    assert CHROMIUM.exists(), "Debian's chromium is missing: run scripts/bootstrap.sh test (as root)"
    laser = next(m for m in service.call("GET", "/machines") if m["kind"] == "laser")
    service.call("PATCH", f"/machines/{laser['id']}", json={"confirm_before_start": True})
    cut = service.call(
        "POST",
        "/jobs",
        json={"design_id": _upload(service, _panel(tmp_path / "plaque.dxf")), "material": "mdf-3mm"},
    )
    waiting = service.call(
        "POST",
        "/jobs",
        json={"design_id": _upload(service, cube_stl(tmp_path / "c.stl", 8.0)), "material": "PLA"},
    )
    service.call("POST", f"/jobs/{cut['id']}/approve")
    service.call(
        "POST",
        "/users",
        json={"username": "ada", "display_name": "Ada", "role": "admin", "password": USER_PASSWORD},
    )
    foreign: list[str] = []
    expect = sync_api.expect
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--enable-unsafe-swiftshader", "--use-angle=swiftshader"],
        )
        try:
            # the trainer raises a waiting job's priority from the dashboard
            trainer = login(browser, service, "marc", foreign)
            item = trainer.locator(".queue-item", has_text="c.stl")
            item.get_by_label("Priorité").select_option("2")
            trainer.evaluate("() => document.activeElement && document.activeElement.blur()")  # choice made
            trainer.evaluate(
                """() => { window.refreshedOnce = false; document.addEventListener(
                    "fablab:refreshed", () => { window.refreshedOnce = true; }, { once: true }); }"""
            )
            service.call(  # someone else's new job: the dashboard refreshes live
                "POST",
                "/jobs",
                json={"design_id": _upload(service, cube_stl(tmp_path / "d.stl", 6.0)), "material": "PLA"},
            )
            for _ in range(300):  # (polled from here: the page's CSP forbids wait_for_function's eval)
                if trainer.evaluate("() => window.refreshedOnce"):
                    break  # the live refresh came (on a loaded machine the event can take its time)
                trainer.wait_for_timeout(100)
            expect(item.get_by_label("Priorité")).to_have_value("2")  # the trainer's pick was not replaced
            item.get_by_role("button", name="Changer la priorité").click()
            expect(trainer.locator(".flash")).to_contain_text("Priorité changée : +2")
            expect(trainer.locator(f"#priority-{waiting['id']}")).to_have_value("2")
            shoot(trainer, "trainer-priority")

            # the operator frames the laser job before confirming the sheet is in place
            operator = login(browser, service, "olga", foreign)
            frame = operator.get_by_role("button", name="Cadrer : tracer le contour à faible puissance")
            expect(frame).to_be_visible(timeout=60_000)
            shoot(operator, "operator-framing")
            frame.click()
            expect(operator.locator(".flash")).to_contain_text("Cadrage fait", timeout=30_000)
            confirm = operator.get_by_role("button", name="Plateau dégagé / plaque en place : démarrer")
            expect(confirm).to_be_visible()
            confirm.click()
            expect(operator.locator(".flash")).to_contain_text("la machine démarre")

            # the admin adds a material, sees the errors next to the fields, disables one
            admin = login(browser, service, "ada", foreign)
            admin.get_by_role("link", name="Matériaux").click()
            expect(admin.get_by_role("heading", level=1)).to_have_text("Bibliothèque de matériaux (laser)")
            form = admin.locator("form[action='/admin/materials']")
            form.get_by_label("Identifiant (ex. mdf-3mm)").fill("Liège 3")
            form.get_by_label("Nom en français").fill("Liège 3 mm")
            form.get_by_label("Nom en anglais").fill("Cork 3 mm")
            form.get_by_label("Découpe : vitesse (mm/min)").fill("500")
            form.get_by_label("Découpe : puissance (%)").fill("120")
            form.get_by_role("button", name="Ajouter").click()
            expect(admin.locator("#new-key-error")).to_contain_text("minuscules")
            expect(admin.locator("#new-cut_power-error")).to_contain_text("entre 0 et 100")
            shoot(admin, "admin-materials-errors")
            form = admin.locator("form[action='/admin/materials']")
            form.get_by_label("Identifiant (ex. mdf-3mm)").fill("liege-3mm")
            form.get_by_label("Découpe : puissance (%)").fill("70")
            form.get_by_role("button", name="Ajouter").click()
            expect(admin.locator(".flash")).to_contain_text("Matériau « liege-3mm » ajouté")
            row = admin.locator("tr[data-material='acrylic-3mm']")
            row.get_by_role("button", name="Désactiver").click()
            expect(admin.locator(".flash")).to_contain_text("Matériau désactivé")
            expect(admin.locator("tr[data-material='acrylic-3mm']")).to_contain_text("Désactivé")
            shoot(admin, "admin-materials")

            # run-time settings: changed at once, audited
            admin.get_by_role("link", name="Réglages").click()
            admin.get_by_label("Arrondi des heures du jour (minutes)").fill("10")
            admin.get_by_label("Maximum d'heures par jour (alerte)").fill("40")
            admin.get_by_role("button", name="Enregistrer").click()
            expect(admin.locator("#s-daily_max_hours-error")).to_be_visible()
            admin.get_by_label("Maximum d'heures par jour (alerte)").fill("7")
            admin.get_by_label("Arrondi des heures du jour (minutes)").fill("10")
            admin.get_by_role("button", name="Enregistrer").click()
            expect(admin.locator(".flash")).to_contain_text("Réglages enregistrés")
            expect(admin.locator("tr[data-setting='hours_rounding_minutes']")).to_contain_text("modifié")
            shoot(admin, "admin-settings")
            admin.goto(f"{service.base}/admin/audit?action=setting.")
            expect(admin.locator("main")).to_contain_text("setting.change")

            # an unknown address is a page, in the reader's language
            admin.goto(f"{service.base}/nulle-part")
            expect(admin.get_by_role("heading", level=1)).to_have_text("Cette page n'est pas disponible")
            expect(admin.locator(".flash")).to_contain_text("Cette adresse n'existe pas")
            shoot(admin, "not-found")
        finally:
            browser.close()
    assert not foreign, f"pages asked other hosts or broke the CSP: {foreign}"
    job = service.call("GET", f"/jobs/{cut['id']}")
    assert job["state"] in ("running", "done"), job
    stored = service.call("GET", f"/jobs/{waiting['id']}")
    assert stored["priority"] == 2
