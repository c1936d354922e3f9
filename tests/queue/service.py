"""A real `fablabctl serve` process for the tests that kill it, load it or restart it."""

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

PASSWORD = "admin-password-42"


class Service:
    def __init__(self, data: Path, **env: str) -> None:
        self.port = free_port()
        self.data = data
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self.env = {
            **os.environ,
            "FABLAB_DATA_DIR": str(data),
            "FABLAB_PORT": str(self.port),
            "FABLAB_ADMIN_PASSWORD": PASSWORD,
            "FABLAB_SIM_SPEED": "20",
            "FABLAB_STAGGER_START_S": "0",
            "FABLAB_DISPATCH_POLL_S": "0.2",
            **env,
        }
        self.env.pop("FABLAB_DATABASE_URL", None)
        self.proc: subprocess.Popen[bytes] | None = None
        self.headers: dict[str, str] = {}
        self.log = data.parent / f"service-{self.port}.log"

    def start(self) -> None:
        with self.log.open("ab") as log:  # a pipe could fill and block the service
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "fablabctl", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
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

    def wait_for(self, check: Any, timeout: float = 60, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"{what}: timed out after {timeout:.0f} s; log: {self.log.read_text()[-3000:]}")
