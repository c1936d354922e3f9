"""Fixtures for the hours and documents: the API (one account per role) and the real CLI commands."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fablabctl.cli import app
from fablabctl.config import Settings
from tests.api.conftest import client, context, headers, user_ids

__all__ = ["cli", "client", "context", "headers", "pdf_text", "user_ids"]


def pdf_text(path: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.split())  # one line, single spaces: phrases survive line wrapping


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., str]:
    """The real `fablabctl` commands, in-process, on the test's database and data directory."""
    for key in ("FABLAB_API", "FABLAB_TOKEN", "FABLAB_ADMIN_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    logo = tmp_path / "logo.png"
    from PIL import Image

    Image.new("RGB", (120, 60), (20, 90, 160)).save(logo)
    env = {
        "FABLAB_DATABASE_URL": settings.database_url,
        "FABLAB_DATA_DIR": str(settings.data_dir),
        "FABLAB_STRUCTURE_NAME": "Fab Lab des Capucins",
        "FABLAB_STRUCTURE_ADDRESS": "12 rue des Ateliers; 29200 Brest",
        "FABLAB_STRUCTURE_LOGO": str(logo),
        "COLUMNS": "220",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> str:
        result = runner.invoke(app, list(args))
        output = result.stdout + (result.stderr if result.stderr_bytes is not None else "")
        assert (result.exit_code == 0) == ok, (args, result.exit_code, output)
        return result.stdout if ok else output

    return run
