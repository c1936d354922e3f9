"""The whole story in a real browser (Debian's chromium driven by Playwright) against `fablabctl serve`
in demo mode with its simulated machines: a tigiste uploads a broken STL and sees the French error and
the highlighted hole, uploads a good one and submits it; the trainer approves; the operator confirms
the bed is clear; the simulated printer prints; the progress bar moves without a reload; the job ends;
Léa checks in at the door, the trainer confirms, checks her out and downloads her attestation (PDF);
the emergency stop reaches the simulated firmware.

The test fails if any page asks anything of another host than the service, or breaks the CSP.
Screenshots of the main pages at 1280x800 and phone size go to `var/screenshots/` (git-ignored).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright import sync_api

from tests.postgres_server import free_port
from tests.web.meshes import cube_stl

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
PASSWORD = "admin-password-42"
USER_PASSWORD = "mot-de-passe-42"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


class Service:
    """`fablabctl serve` in demo mode on a free port, simulated machines sped up."""

    def __init__(self, data: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "FABLAB_DATA_DIR": str(data),
            "FABLAB_PORT": str(self.port),
            "FABLAB_ADMIN_PASSWORD": PASSWORD,
            "FABLAB_SIM_SPEED": "400",
            "FABLAB_STAGGER_START_S": "0",
            "FABLAB_DISPATCH_POLL_S": "0.2",
            "FABLAB_DEMO": "true",
        }
        env.pop("FABLAB_DATABASE_URL", None)
        self.log = (data / "serve.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fablabctl", "serve"], env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError("fablabctl serve did not answer within 60 s")
        token = httpx.post(
            f"{self.base}/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}
        ).json()["token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(
            method, f"{self.base}/api/v1{path}", headers=self.headers, timeout=30, **kwargs
        )
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    svc = Service(tmp_path)
    try:
        for username, name, role in (
            ("lea", "Léa", "tigiste"),
            ("marc", "Marc", "trainer"),
            ("olga", "Olga", "operator"),
        ):
            svc.call(
                "POST",
                "/users",
                json={"username": username, "display_name": name, "role": role, "password": USER_PASSWORD},
            )
        lea = next(u for u in svc.call("GET", "/users") if u["username"] == "lea")
        cohort = svc.call(
            "POST", "/cohorts", json={"name": "Ruche", "starts_on": "2026-01-01", "ends_on": "2036-12-31"}
        )
        svc.call(
            "POST", "/enrolments", json={"cohort_id": cohort["id"], "user_id": lea["id"], "hours_due": 70}
        )
        printer = next(m for m in svc.call("GET", "/machines") if m["kind"] == "printer")
        svc.call("PATCH", f"/machines/{printer['id']}", json={"confirm_before_start": True})
        yield svc
    finally:
        svc.stop()


def shoot(page: Any, name: str) -> None:
    """The page at desktop size, then at phone size (full page), back to desktop."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{name}-1280x800.png"))
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{name}-390x844.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def login(browser: Any, service: Service, username: str, foreign: list[str]) -> Any:
    context = browser.new_context(viewport=DESKTOP, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(20_000)

    def watch(request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob"):
            return
        if f"{parts.hostname}:{parts.port}" != f"127.0.0.1:{service.port}":
            foreign.append(request.url)

    page.on("request", watch)
    page.on(  # a CSP violation (inline script or style, foreign source) fails the test too
        "console",
        lambda message: (
            foreign.append(f"console: {message.text}") if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{service.base}/")
    sync_api.expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(USER_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    return page


@pytest.mark.slow
def test_whole_story_in_a_browser(service: Service, tmp_path: Path) -> None:
    assert CHROMIUM.exists(), "Debian's chromium is missing: run scripts/bootstrap.sh test (as root)"
    broken = cube_stl(tmp_path / "cube-trou.stl", 20.0, drop_faces=2)
    good = cube_stl(tmp_path / "cube.stl", 8.0)
    foreign: list[str] = []
    expect = sync_api.expect
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--enable-unsafe-swiftshader", "--use-angle=swiftshader"],
        )
        try:
            # the tigiste: a broken file, told in French, the hole drawn on the part
            tigiste = login(browser, service, "lea", foreign)
            expect(tigiste).to_have_url(f"{service.base}/mine")
            tigiste.get_by_role("link", name="EN", exact=True).click()
            expect(tigiste.get_by_role("heading", level=1)).to_have_text("My files and jobs")
            tigiste.get_by_role("link", name="FR", exact=True).click()
            expect(tigiste.get_by_role("heading", level=1)).to_have_text("Mes fichiers et mes travaux")
            shoot(tigiste, "tigiste-mine")
            tigiste.locator("#file").set_input_files(str(broken))
            tigiste.wait_for_url("**/designs/*")
            expect(tigiste.locator(".verdict.error")).to_contain_text("problème(s) à corriger")
            expect(tigiste.locator('[data-code="STL_NOT_WATERTIGHT"]')).to_contain_text("n'est pas fermé")
            viewer = tigiste.locator("[data-viewer]").first
            expect(viewer).to_have_attribute("data-viewer-state", "ready")
            assert int(viewer.get_attribute("data-hole-edges") or 0) >= 4
            expect(viewer.locator("[data-viewer-summary]")).to_contain_text("bord(s) de trou en rouge")
            shoot(tigiste, "tigiste-report-broken")

            # a good one, submitted with a material the printers take
            tigiste.goto(f"{service.base}/mine")
            tigiste.locator("#file").set_input_files(str(good))
            tigiste.wait_for_url("**/designs/*")
            expect(tigiste.locator("p.verdict.ok[role=status]")).to_be_visible()
            expect(tigiste.locator("[data-viewer]").first).to_have_attribute("data-viewer-state", "ready")
            tigiste.get_by_label("Matériau").select_option("PLA")
            tigiste.get_by_role("button", name="Envoyer au formateur").click()
            tigiste.wait_for_url("**/jobs/*")
            job_id = tigiste.url.rsplit("/", 1)[1]
            expect(tigiste.locator(f'[data-job-state="{job_id}"]')).to_have_text("En attente de validation")
            tigiste.evaluate("window.__sameDocument = true")

            # the trainer approves from the dashboard
            trainer = login(browser, service, "marc", foreign)
            expect(trainer).to_have_url(f"{service.base}/trainer")
            expect(trainer.locator(".queue-item")).to_contain_text("cube.stl")
            shoot(trainer, "trainer-dashboard")
            trainer.locator(".queue-item").get_by_role("button", name="Valider").click()
            expect(trainer.locator(".flash")).to_contain_text("Travail validé")

            # the operator's page shows the prompt live (no reload) and confirms the bed is clear
            operator = login(browser, service, "olga", foreign)
            expect(operator).to_have_url(f"{service.base}/operator")
            confirm = operator.get_by_role("button", name="Plateau dégagé / plaque en place : démarrer")
            expect(confirm).to_be_visible(timeout=60_000)
            shoot(operator, "operator-machines")
            confirm.click()

            # the tigiste's page follows the print without a reload, to the end
            bar = tigiste.locator(f'progress[data-job-progress="{job_id}"]')
            moved, deadline = 0.0, time.monotonic() + 60  # (wait_for_function would need 'unsafe-eval')
            while moved <= 0 and time.monotonic() < deadline:
                tigiste.wait_for_timeout(200)
                moved = float(bar.get_attribute("value") or 0)
            assert moved > 0, "the progress bar never moved"
            expect(tigiste.locator(f'[data-job-state="{job_id}"]')).to_have_text("Terminé", timeout=60_000)
            assert float(bar.get_attribute("value") or 0) > 0
            assert tigiste.evaluate("window.__sameDocument === true"), "the job page was reloaded"
            shoot(tigiste, "tigiste-job-done")
            shoot(trainer, "trainer-dashboard-after")

            # Léa checks in at the door; the trainer confirms, checks her out, gets her attestation
            door = login(browser, service, "lea", foreign)  # the tablet at the door, in kiosk mode
            door.goto(f"{service.base}/presence?kiosk=1")
            door.get_by_role("button", name="J'arrive").click()
            expect(door.locator(".flash")).to_contain_text("un formateur va la confirmer")
            expect(door.get_by_role("heading", name="Connexion")).to_be_visible()  # ready for the next one
            trainer.get_by_role("link", name="Cohortes").click()
            person = trainer.locator(".person", has_text="Léa")
            person.get_by_role("button", name="Confirmer son pointage").click()
            expect(trainer.locator(".flash")).to_contain_text("Pointage confirmé")
            trainer.locator(".person", has_text="Léa").get_by_role("button", name="Départ").click()
            expect(trainer.locator(".person", has_text="Léa")).to_contain_text("Parti·e à")
            shoot(trainer, "trainer-cohort")
            with trainer.expect_download() as download:
                trainer.get_by_role("link", name="Attestation").first.click()
            pdf = Path(download.value.path())
            assert pdf.read_bytes().startswith(b"%PDF"), "the attestation is not a PDF"

            # the emergency stop reaches the (simulated) firmware from the operator's page
            operator.get_by_role("button", name="Arrêt d'urgence : demo-printer", exact=True).click()
            expect(operator.locator(".flash")).to_contain_text("ARRÊT D'URGENCE envoyé à : demo-printer")
        finally:
            browser.close()
    assert not foreign, f"pages asked other hosts or broke the CSP: {foreign}"
