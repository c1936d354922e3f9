"""A real OctoPrint 1.11 server for the tests: headless, loopback, temporary basedir, virtual printer.

Installed by scripts/setup_octoprint.sh into .venv-octoprint (the test command runs it). A user and
an application key are created by the fixture: the key is preset in the appkeys plugin's keys.yaml.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.postgres_server import free_port

ROOT = Path(__file__).resolve().parents[2]
OCTOPRINT = ROOT / ".venv-octoprint" / "bin" / "octoprint"
OFFLINE_PLUGINS = [
    "softwareupdate",
    "announcements",
    "tracking",
    "errortracking",
    "pluginmanager",
    "health_check",
    "gcodeviewer",
    "firmware_check",
    "backup",
    "discovery",  # mDNS/SSDP announcements: nothing to announce on a test loopback, and ~4 s per start
]


@dataclass
class OctoPrintServer:
    url: str
    api_key: str
    basedir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [
            str(OCTOPRINT),
            "--basedir",
            str(self.basedir),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        if os.geteuid() == 0:
            argv.append("--iknowwhatimdoing")
        log = (self.basedir / "serve.log").open("ab")
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if (
                    httpx.get(
                        f"{self.url}/api/version", headers={"X-Api-Key": self.api_key}, timeout=1
                    ).status_code
                    == 200
                ):
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"OctoPrint did not start: {(self.basedir / 'serve.log').read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


def _config(basedir: Path) -> str:
    disabled = "\n".join(f"  - {name}" for name in OFFLINE_PLUGINS)
    return f"""server:
  firstRun: false
  onlineCheck:
    enabled: false
  pluginBlacklist:
    enabled: false
plugins:
  _disabled:
{disabled}
  virtual_printer:
    enabled: true
    throttle: 0.001
serial:
  autoconnect: false
folder:
  uploads: {basedir / "uploads"}
"""


@contextmanager
def running_octoprint() -> Iterator[OctoPrintServer]:
    if not OCTOPRINT.exists():
        raise RuntimeError(
            "OctoPrint is not installed: run scripts/setup_octoprint.sh (scripts/test.sh does it)"
        )
    basedir = Path(tempfile.mkdtemp(prefix="fablab-octoprint-"))
    (basedir / "config.yaml").write_text(_config(basedir))
    subprocess.run(
        [
            str(OCTOPRINT),
            "--basedir",
            str(basedir),
            "user",
            "add",
            "fablab",
            "--password",
            secrets.token_urlsafe(12),
            "--admin",
        ],
        check=True,
        capture_output=True,
    )
    api_key = secrets.token_hex(16).upper()
    keys = basedir / "data" / "appkeys"
    keys.mkdir(parents=True, exist_ok=True)
    (keys / "keys.yaml").write_text(f"fablab:\n- app_id: fablabctl\n  api_key: {api_key}\n")
    port = free_port()
    server = OctoPrintServer(f"http://127.0.0.1:{port}", api_key, basedir, port)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(basedir, ignore_errors=True)
