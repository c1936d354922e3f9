"""Command-line usage errors (a missing option, a bad value, an unknown command) in the user's language.

Click and Typer word these in English only (pydantic words Typer's value checks). They are short,
stable sentences, so each is matched here and said again in French; a sentence not known here is
shown as it is, inside the same French frame. Printed like every other CLI error: one `Erreur` line
on stderr, then where to find help, exit code 2.
"""

from __future__ import annotations

import re
import sys

import typer
from rich.text import Text as RichText

from fablabctl.cli.common import ERROR, current_lang, err_console
from fablabctl.i18n import Lang, Text

# (English sentence as click/Typer/pydantic write it, its French); {0}, {1}... are the captured groups
_SENTENCES: tuple[tuple[str, str], ...] = (
    (r"Missing option (.+)\.", "option obligatoire manquante : {0}."),
    (r"Missing argument (.+)\.", "argument obligatoire manquant : {0}."),
    (r"Missing parameter: (.+)", "paramètre manquant : {0}"),
    (r"Missing command\.", "commande manquante."),
    (r"(No such option:? \S+?)\.? (\(Possible options: .+\))", "{0} {1}"),
    (r"\(Possible options: (.+)\)", "(options possibles : {0})"),
    (r"No such option:? (.+?)\.?", "option inconnue : {0}."),
    (r"No such command (.+?)\.", "commande inconnue : {0}."),
    (r"Did you mean (.+)\?", "Vouliez-vous dire {0} ?"),
    (r"\(Did you mean one of: (.+)\?\)", "(Vouliez-vous dire l'une de : {0} ?)"),
    (r"Got unexpected extra arguments?(?:\(s\))? \((.+)\)", "argument(s) en trop : {0}"),
    (r"Option (.+) requires an argument\.", "l'option {0} attend une valeur."),
    (r"Option (.+) requires (\d+) arguments\.", "l'option {0} attend {1} valeurs."),
    (r"Option (.+) does not take a value\.", "l'option {0} ne prend pas de valeur."),
    (
        r"Invalid value for ('[^']+'(?: / '[^']+')*) \(env var: (.+?)\): (.+)",
        "valeur invalide pour {0} ({1}) : {2}",
    ),
    (r"Invalid value for (.+?): (.+)", "valeur invalide pour {0} : {1}"),
    (r"Invalid value: (.+)", "valeur invalide : {0}"),
    (r"Value error, (.+)", "{0}"),
    (r"(.+) is not a valid integer\.", "{0} n'est pas un nombre entier."),
    (r"(.+) is not a valid float\.", "{0} n'est pas un nombre."),
    (r"(.+) is not a valid boolean\..*", "{0} n'est ni oui ni non (true/false, yes/no, 1/0)."),
    (r"(.+) is not in the range (.+)\.", "{0} n'est pas dans l'intervalle {1}."),
    (r"(.+) is not one of (.+)\.", "{0} n'est pas l'une des valeurs {1}."),
    (r"(.+) is not (.+)\.", "{0} n'est pas {1}."),
    (r"(.+) does not match the formats? (.+)\.", "{0} ne suit pas le format {1}."),
    (r"(?:File|Path|Directory) (.+) does not exist\.", "{0} est introuvable."),
    (r"(?:File|Path|Directory) (.+) is a directory\.", "{0} est un dossier."),
    (r"(?:File|Path|Directory) (.+) is a file\.", "{0} est un fichier."),
    (r"(?:File|Path|Directory) (.+) is not readable\.", "{0} n'est pas lisible."),
    (r"(?:File|Path|Directory) (.+) is not writable\.", "{0} n'est pas modifiable."),
    (r"Input should be a valid integer.*", "un nombre entier est attendu"),
    (r"Input should be a valid number.*", "un nombre est attendu"),
    (r"Input should be a valid date.*", "une date AAAA-MM-JJ est attendue"),
    (r"Input should be a valid datetime.*", "une heure AAAA-MM-JJTHH:MM est attendue"),
    (r"Input should be greater than or equal to (.+)", "la valeur doit être au moins {0}"),
    (r"Input should be greater than (.+)", "la valeur doit dépasser {0}"),
    (r"Input should be less than or equal to (.+)", "la valeur doit être au plus {0}"),
    (r"Input should be less than (.+)", "la valeur doit être inférieure à {0}"),
    (r"Input should be (.+)", "valeur attendue : {0}"),
)
_COMPILED = tuple((re.compile(english), french) for english, french in _SENTENCES)
HELP_HINT = Text("Aide : {command} --help", "Help: {command} --help")
ABORTED = Text("Interrompu.", "Aborted.")


def in_french(message: str) -> str:
    """Click's English sentence(s) said in French; a sentence not known stays as it is."""
    for pattern, french in _COMPILED:
        match = pattern.fullmatch(message)
        if match:
            return french.format(*(in_french(group) for group in match.groups()))
    head, dot, rest = message.partition(". ")  # "No such command 'x'. Did you mean 'y'?"
    if dot and rest:
        return f"{in_french(head + '.')} {in_french(rest)}"
    return message


def translated(message: str, lang: Lang) -> str:
    return message if lang == "en" else in_french(message)


def _lang_from_argv(argv: list[str]) -> Lang:
    """An error met before the global options were read still honours `--lang en`."""
    for i, arg in enumerate(argv):
        if arg == "--lang=en" or (arg == "--lang" and argv[i + 1 : i + 2] == ["en"]):
            return "en"
        if arg == "--lang=fr" or (arg == "--lang" and argv[i + 1 : i + 2] == ["fr"]):
            return "fr"
    return current_lang()


def show(error: typer.TyperException, argv: list[str]) -> None:
    """Print the error as one line in the user's language, then where to find help."""
    lang = _lang_from_argv(argv)
    message = translated(error.format_message(), lang)
    err_console.print(RichText.assemble((ERROR.in_(lang), "bold red"), " ", message), soft_wrap=True)
    command = getattr(getattr(error, "ctx", None), "command_path", None)
    if isinstance(command, str):
        err_console.print(HELP_HINT.format(command=command).in_(lang), highlight=False, soft_wrap=True)


def run(app: typer.Typer, argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code, with usage errors shown by `show` instead of Typer."""
    args = sys.argv[1:] if argv is None else argv
    try:
        result = typer.main.get_command(app).main(args=args, prog_name="fablabctl", standalone_mode=False)
    except typer.TyperException as error:
        if type(error).__name__ != "NoArgsIsHelpError":  # `fablabctl attendance` alone: its help, shown
            show(error, args)
        return error.exit_code
    except typer.Abort:
        err_console.print(ABORTED.in_(_lang_from_argv(args)))
        return 1
    return result if isinstance(result, int) else 0
