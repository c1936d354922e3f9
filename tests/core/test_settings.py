"""Start-up checks give one precise line per problem, from the library and from `fablabctl serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fablabctl.config import Settings, SettingsError, check_data_dir, check_port_free, load_settings
from fablabctl.startup import prepare_database


def test_defaults_use_sqlite_under_var(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("FABLAB_"):
            monkeypatch.delenv(key)
    settings = load_settings()
    assert settings.port == 8000 and settings.host == "127.0.0.1"
    assert settings.sqlalchemy_url.startswith("sqlite:///") and settings.sqlalchemy_url.endswith(
        "var/fablabctl.db"
    )


def test_postgres_urls_get_the_psycopg_driver() -> None:
    settings = Settings(database_url="postgresql://u:p@db.example/fablab")
    assert settings.sqlalchemy_url == "postgresql+psycopg://u:p@db.example/fablab"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"FABLAB_DATABASE_URL": "mysql://x/y"}, "FABLAB_DATABASE_URL"),
        ({"FABLAB_DATABASE_URL": "not a url"}, "not a database URL"),
        ({"FABLAB_PORT": "99999"}, "FABLAB_PORT"),
        ({"FABLAB_PORT": "eighty"}, "FABLAB_PORT"),
        ({"FABLAB_MAX_UPLOAD_MB": "-1"}, "FABLAB_MAX_UPLOAD_MB"),
    ],
)
def test_bad_values_are_named(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError, match=expected) as info:
        load_settings()
    assert "\n" not in str(info.value)


def test_unwritable_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(SettingsError, match=r"FABLAB_DATA_DIR .* is not writable"):
        check_data_dir(Settings(data_dir=blocker / "sub"))


def test_port_in_use() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(SettingsError, match=rf"port {port} .* already in use"):
            check_port_free("127.0.0.1", port)


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(SettingsError, match="FABLAB_DATABASE_URL: cannot open") as info:
        prepare_database(settings)
    assert "\n" not in str(info.value)


def test_serve_reports_a_bad_setting_in_one_line_without_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "FABLAB_DATA_DIR": str(tmp_path), "FABLAB_DATABASE_URL": "oracle://x/y"}
    result = subprocess.run(
        [sys.executable, "-m", "fablabctl", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "FABLAB_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
