"""`fablabctl serve` as a real process, then the CLI talking to it with `--api`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.postgres_server import free_port

PASSWORD = "mot-de-passe-admin"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = {
        **os.environ,
        "FABLAB_DATA_DIR": str(tmp_path / "var"),
        "FABLAB_PORT": str(port),
        "FABLAB_ADMIN_PASSWORD": PASSWORD,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    env.pop("FABLAB_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "fablabctl", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"service did not start: {proc.stdout.read() if proc.stdout else ''}")
            time.sleep(0.2)
        yield url, env
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fablabctl", *args],
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_serve_answers_health_and_the_cli_works_remotely(service: tuple[str, dict[str, str]]) -> None:
    url, env = service
    health = httpx.get(f"{url}/api/v1/health").json()
    assert health["status"] == "ok" and health["database"] == "sqlite"
    assert Path(env["FABLAB_DATA_DIR"], "fablabctl.db").is_file()

    denied = cli(env, "--api", url, "machine", "list")
    assert denied.returncode == 1 and "NOT_AUTHENTICATED" in denied.stderr

    login = cli(env, "--api", url, "login", "--username", "admin", "--password", PASSWORD)
    assert login.returncode == 0, login.stderr
    token_file = Path(env["XDG_CONFIG_HOME"], "fablabctl", "tokens.json")
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"

    added = cli(
        env,
        "--api",
        url,
        "machine",
        "add",
        "laser-atelier",
        "--kind",
        "laser",
        "--driver",
        "grbl",
        "--bed",
        "400x300",
        "--simulated",
    )
    assert added.returncode == 0, added.stderr
    listing = cli(env, "--api", url, "machine", "list")
    assert "laser-atelier" in listing.stdout
    # demo mode gave the service simulated machines, visible remotely too
    assert "demo-printer" in listing.stdout

    wrong = cli(env, "--api", url, "login", "--username", "admin", "--password", "nope-nope")
    assert wrong.returncode == 1 and "BAD_CREDENTIALS" in wrong.stderr


def test_unreachable_service_is_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    result = cli(env, "--api", f"http://127.0.0.1:{free_port()}", "job", "list")
    assert result.returncode == 1
    assert "SERVICE_UNREACHABLE" in result.stderr and "Traceback" not in result.stderr
