"""A mistyped command line is answered in the user's language, in one line, with where to find help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fablabctl.cli import app, usage_errors


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    for key in ("FABLAB_DATABASE_URL", "FABLAB_API", "FABLAB_TOKEN", "FABLAB_LANG"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("FABLAB_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str) -> tuple[int, str]:
        code = usage_errors.run(app, list(args))
        return code, capsys.readouterr().err

    return invoke


@pytest.mark.parametrize(
    ("args", "french"),
    [
        (("attendance", "in", "lea"), "Erreur option obligatoire manquante : '--cohort'."),
        (("validate",), "Erreur argument obligatoire manquant : 'file'."),
        (("attendnce",), "Erreur commande inconnue : 'attendnce'. Vouliez-vous dire 'attendance'"),
        (
            ("attendance", "in", "lea", "--cohort", "x"),
            "valeur invalide pour '--cohort' : un nombre entier est attendu",
        ),
        (("prepare", "a.stl", "-o", "b", "--copies", "99"), "'--copies' : la valeur doit être au plus 50"),
        (("attendance", "in", "--cohor", "3"), "option inconnue : --cohor. (options possibles : --cohort)"),
        (("users", "list", "--json", "extra"), "Erreur argument(s) en trop : extra"),
        (("prepare", "a.stl", "-o"), "Erreur l'option '-o' attend une valeur."),
        (
            ("--lang", "de", "users", "list"),
            "'--lang' ('FABLAB_LANG') : 'de' n'est pas l'une des valeurs 'fr', 'en'.",
        ),
    ],
)
def test_usage_errors_are_said_in_french(run, args: tuple[str, ...], french: str) -> None:  # type: ignore[no-untyped-def]
    code, err = run(*args)
    assert code == 2 and french in err, err
    assert "Error" not in err and "Traceback" not in err and "Usage:" not in err


def test_the_help_line_names_the_command(run) -> None:  # type: ignore[no-untyped-def]
    _, err = run("attendance", "in", "lea")
    assert err.splitlines()[-1] == "Aide : fablabctl attendance in --help"


def test_english_when_asked_even_before_the_options_are_read(run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    code, err = run("--lang", "en", "attendance", "in", "lea")
    assert (
        code == 2
        and "Error Missing option '--cohort'." in err
        and "Help: fablabctl attendance in --help" in err
    )
    _, err = run("--lang=en", "attendnce")  # fails before the global options' callback runs
    assert "No such command 'attendnce'." in err
    monkeypatch.setenv("FABLAB_LANG", "en")
    _, err = run("validate")
    assert "Missing argument 'file'." in err


def test_a_sentence_not_known_is_kept_whole() -> None:
    assert (
        usage_errors.in_french("Something new from a future Typer.") == "Something new from a future Typer."
    )
    assert usage_errors.in_french("'7' is not a valid integer.") == "'7' n'est pas un nombre entier."


def test_help_and_success_still_exit_zero(run, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    code, _ = run("attendance", "--help")
    assert code == 0
    code, err = run("attendance")  # a group alone shows its help, with no error line after it
    assert code == 2 and "Erreur" not in err


def test_the_installed_command_exits_2_with_the_french_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FABLAB_")}
    env["FABLAB_DATA_DIR"] = str(tmp_path / "var")
    done = subprocess.run(
        [sys.executable, "-m", "fablabctl", "journal", "add", "bonjour"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done
    assert done.stderr.startswith("Erreur option obligatoire manquante : '--cohort'."), done.stderr
