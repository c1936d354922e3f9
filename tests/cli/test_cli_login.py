"""`login` from a script: the password from standard input or FABLAB_PASSWORD, never an echo warning."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli.test_cli_remote import PASSWORD, service  # noqa: F401 (the running service fixture)


def login(env: dict[str, str], url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fablabctl", "--api", url, "login", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_login_without_a_terminal(service: tuple[str, dict[str, str]]) -> None:  # noqa: F811
    url, env = service
    token_file = Path(env["XDG_CONFIG_HOME"], "fablabctl", "tokens.json")

    piped = login(env, url, "--username", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert piped.returncode == 0, piped.stderr
    assert "connecté·e en tant que admin" in piped.stdout and token_file.is_file()
    assert piped.stderr == "", piped.stderr  # no "Warning: Password input may be echoed"

    no_terminal = login(env, url, "--username", "admin", stdin=PASSWORD + "\n")
    assert no_terminal.returncode == 0 and no_terminal.stderr == "", no_terminal.stderr
    assert "Mot de passe" not in no_terminal.stdout  # no prompt written into a pipe

    from_env = login({**env, "FABLAB_PASSWORD": PASSWORD, "FABLAB_LANG": "en"}, url, "--username", "admin")
    assert from_env.returncode == 0, from_env.stderr
    assert "logged in as admin" in from_env.stdout and from_env.stderr == ""

    wrong = login(env, url, "--username", "admin", "--password-stdin", stdin="not-the-password\n")
    assert wrong.returncode == 1 and "Warning" not in wrong.stderr

    nobody = login(env, url, stdin=PASSWORD + "\n")
    assert nobody.returncode == 2 and "--username" in nobody.stderr
