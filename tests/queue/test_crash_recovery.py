"""kill -9 the service while a machine is printing, start it again: nothing lost, nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.postgres_server import free_port
from tests.queue.conftest import gcode

PASSWORD = "admin-password-42"


class Service:
    def __init__(self, data: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self.env = {
            **os.environ,
            "FABLAB_DATA_DIR": str(data),
            "FABLAB_PORT": str(self.port),
            "FABLAB_ADMIN_PASSWORD": PASSWORD,
            "FABLAB_SIM_SPEED": "20",
            "FABLAB_STAGGER_START_S": "0",
            "FABLAB_DISPATCH_POLL_S": "0.2",
        }
        self.env.pop("FABLAB_DATABASE_URL", None)
        self.proc: subprocess.Popen[bytes] | None = None
        self.headers: dict[str, str] = {}

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fablabctl", "serve"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        token = httpx.post(f"{self.url}/auth/login", json={"username": "admin", "password": PASSWORD}).json()[
            "token"
        ]
        self.headers = {"Authorization": f"Bearer {token}"}

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.url}{path}", headers=self.headers, timeout=30, **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def wait_for(self, check: Any, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError("timed out")


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
    assert "restart" in after["reason"]
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
