"""A real `fablabctl serve` process on a free port with its own data directory, for the reliability
tests: the same process, server (uvicorn) and settings as on site, reached over TCP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.postgres_server import free_port

ADMIN_PASSWORD = "admin-password-42"
TIGISTE_PASSWORD = "tigiste-password-42"


class LiveService:
    def __init__(self, data: Path, **settings: str) -> None:
        self.data = data
        self.port = free_port()
        self.root = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.root}/api/v1"
        self.log = data.parent / f"serve-{self.port}.log"
        self.env = {
            **os.environ,
            "FABLAB_DATA_DIR": str(data),
            "FABLAB_PORT": str(self.port),
            "FABLAB_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "FABLAB_DEMO": "false",
            "FABLAB_ENVIRONMENT": "test",
            **{f"FABLAB_{key.upper()}": value for key, value in settings.items()},
        }
        self.env.pop("FABLAB_DATABASE_URL", None)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "fablabctl", "serve"], env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the service exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the service did not answer within {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def login(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> dict[str, str]:
        response = httpx.post(
            f"{self.url}/auth/login", json={"username": username, "password": password}, timeout=30
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def add_tigiste(self, admin: dict[str, str], username: str = "lea") -> dict[str, str]:
        body = {"username": username, "display_name": "Léa", "role": "tigiste", "password": TIGISTE_PASSWORD}
        response = httpx.post(f"{self.url}/users", json=body, headers=admin, timeout=30)
        assert response.status_code == 201, response.text
        return self.login(username, TIGISTE_PASSWORD)

    def call(self, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
