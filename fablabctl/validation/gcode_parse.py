"""A strict G-code line reader: one `Command` per line, read the way the firmware reads it.

Upper or lower case, words with or without spaces (`M104S200`, `m104 s200`), a leading line number
and a `*` checksum (checked), `;` comments (and `( )` on Grbl, which knows them; Marlin does not by
default, so a parenthesis on a printer line is ambiguous). Grbl ignores every space, so its lines are
read without them. Anything a firmware could read in more than one way is kept in `Command.problem`
(control characters, non-ASCII letters or digits, a repeated word, a wrong checksum...): the safety
policy (`gcode_policy.py`) refuses such a line; the estimates simply skip it.

Must import nothing but the standard library and `i18n` (the drivers use it too).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from fablabctl.i18n import Text

Dialect = Literal["marlin", "grbl"]
WORD = re.compile(r"[ \t]*([A-Za-z])[ \t]*([+-]?(?:\d+\.?\d*|\.\d+))?")
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
LINE_NUMBER = re.compile(r"[Nn][ \t]*(\d+)[ \t]*")
PAREN_COMMENT = re.compile(r"\([^)]*\)")
# Marlin commands whose argument is free text (a message, a file name, a macro body)
STRING_COMMANDS = frozenset({117, 118, 23, 28, 30, 32, 33, 486, 928, *range(810, 820)})
STRING_COMMAND = re.compile(r"[Mm][ \t]*0*(\d+)(?![\d.])")
MAX_SHOWN = 60


@dataclass(frozen=True, slots=True)
class Command:
    line: int
    code: str  # "G1", "M104", "T0", "$" (Grbl system command), "@" (OctoPrint host command), "" (none)
    params: dict[str, float]
    raw: str  # the line without its comment, for messages
    codes: tuple[str, ...] = ()  # every G/M word, in order (a Grbl block may hold several)
    flags: frozenset[str] = frozenset()  # letters written without a value (`G28 X`, `M104 S`)
    loose: frozenset[str] = frozenset()  # values a C `strtod` would read further (`S2.6e2`, `S0x1F`)
    text_arg: str | None = None  # the free text of M117 and friends, the body of a `$` command
    problem: Text | None = None  # why the firmware could read this line in another way
    words: tuple[str, ...] = field(default=())  # parameter letters in the order written


def checksum(text: str) -> int:
    """Marlin's checksum: XOR of every byte before the `*`."""
    value = 0
    for byte in text.encode("ascii", errors="replace"):
        value ^= byte
    return value


def shown(text: str) -> str:
    """The line as a message quotes it: printable, and not too long."""
    clean = text.strip()
    if not clean.isprintable():
        clean = "".join(ch if ch.isprintable() else "\ufffd" for ch in clean)
    return clean if len(clean) <= MAX_SHOWN else clean[: MAX_SHOWN - 1] + "…"


def _problem(number: int, body: str, why: Text) -> Command:
    return Command(number, "", {}, shown(body), problem=why)


def parse_line(number: int, text: str, dialect: Dialect = "marlin") -> Command | None:
    """The command on one line, or None for a blank or comment-only line."""
    text = text.rstrip("\r\n")
    control = CONTROL.search(text)
    if control is not None:
        ordinal = ord(control.group(0))
        return _problem(
            number,
            text,
            Text(
                f"caractère de contrôle (code {ordinal}) dans la ligne",
                f"control character (code {ordinal}) in the line",
            ),
        )
    body = text.split(";", 1)[0]
    # non-ASCII anywhere before the comment, even where `strip` would hide it: U+1680 or U+00A0 at
    # the end of a line are "spaces" to Python but the bytes E1 9A 80 and C2 A0 to Grbl (0x9A raises
    # the spindle override, 0xA0 toggles coolant), and the drivers send what they checked
    foreign = next((ch for ch in body if not ch.isascii()), None)
    if body.strip().startswith(("$", "@")):  # a Grbl system command, an OctoPrint host command
        body = body.strip()
        return Command(number, body[0], {}, shown(body), text_arg=body[1:].strip())
    if "*" in body:
        head, _, tail = body.rpartition("*")
        if "*" in head or not tail.strip().isdigit() or not tail.strip().isascii():
            return _problem(number, body, Text("somme de contrôle illisible", "unreadable checksum"))
        if checksum(head.lstrip()) != int(tail.strip()):
            return _problem(
                number,
                body,
                Text(
                    "somme de contrôle fausse : la ligne a pu être modifiée",
                    "wrong checksum: the line may have been altered",
                ),
            )
        body = head
    body = body.strip()
    if not body and foreign is None:  # a line of U+1680 alone is not blank on the wire
        return None
    if "$" in body:
        return _problem(number, body, Text("« $ » au milieu d'une ligne", "'$' in the middle of a line"))
    match = LINE_NUMBER.match(body)
    rest = body[match.end() :] if match else body
    if dialect == "marlin":
        string = STRING_COMMAND.match(rest)
        if string and int(string.group(1)) in STRING_COMMANDS:
            code = f"M{int(string.group(1))}"
            if "\\" in rest:  # Marlin's reader drops it and keeps the next byte: `\*` shifts the checksum
                return _problem(
                    number,
                    body,
                    Text(
                        "barre oblique inverse : Marlin lit le caractère suivant autrement",
                        "backslash: Marlin reads the next character differently",
                    ),
                )
            return Command(
                number, code, {}, shown(body), codes=(code,), text_arg=rest[string.end() :].strip()
            )
    if foreign is not None:  # named: an invisible one would not show in the quoted line
        return _problem(
            number,
            body,
            Text(
                f"caractère non ASCII U+{ord(foreign):04X} (lettre, chiffre ou espace d'un autre alphabet ?)",
                f"non-ASCII character U+{ord(foreign):04X} (a letter, digit or space from another alphabet?)",
            ),
        )
    if dialect == "grbl":
        rest = PAREN_COMMENT.sub("", rest)
    if "(" in rest or ")" in rest:
        why = (
            Text("parenthèse non refermée", "unclosed parenthesis")
            if dialect == "grbl"
            else Text(
                "parenthèses : Marlin ne les lit pas comme un commentaire",
                "parentheses: Marlin does not read them as a comment",
            )
        )
        return _problem(number, body, why)
    if dialect == "grbl":
        rest = re.sub(r"[ \t]", "", rest)  # Grbl drops every space before reading a block
    return _words(number, body, rest, dialect)


def _words(number: int, body: str, rest: str, dialect: Dialect) -> Command | None:
    codes: list[str] = []
    params: dict[str, float] = {}
    flags: set[str] = set()
    loose: set[str] = set()
    order: list[str] = []
    pos, end = 0, len(rest.rstrip())
    while pos < end:
        found = WORD.match(rest, pos)
        if found is None:
            ch = rest[pos:].lstrip()[0]
            return _problem(
                number, body, Text(f"caractère inattendu « {ch} »", f"unexpected character '{ch}'")
            )
        letter, value_text = found.group(1).upper(), found.group(2)
        pos = found.end()
        if value_text is not None and pos < end and rest[pos] in ("eExX" if dialect == "marlin" else "eE"):
            loose.add(letter)  # Grbl drops spaces: `S0 X5` reads `S0X5`, so only an exponent is loose there
        is_code = letter in "GM" or (letter == "T" and not codes and not order)
        if is_code:
            code = _code(letter, value_text)
            if code is None:
                return _problem(
                    number,
                    body,
                    Text(
                        f"numéro de commande illisible après « {letter} »",
                        f"unreadable code after '{letter}'",
                    ),
                )
            if code in codes:
                return _problem(number, body, Text(f"{code} répété", f"{code} repeated"))
            codes.append(code)
            continue
        if letter in params or letter in flags:
            return _problem(
                number,
                body,
                Text(
                    f"le mot {letter} apparaît deux fois : le firmware pourrait garder l'un ou l'autre",
                    f"the word {letter} appears twice: the firmware could keep either",
                ),
            )
        order.append(letter)
        if value_text is None:
            flags.add(letter)
        else:
            params[letter] = float(value_text)
    if not codes and not params and not flags:
        return None
    return Command(
        number,
        codes[0] if codes else "",
        params,
        shown(body),
        codes=tuple(codes),
        flags=frozenset(flags),
        loose=frozenset(loose),
        words=tuple(order),
    )


def _code(letter: str, value: str | None) -> str | None:
    """`G01` -> "G1", `G28.1` -> "G28.1"; a sign, a missing or odd number -> None."""
    if value is None or value[0] in "+-" or value.startswith("."):
        return None
    whole, _, fraction = value.partition(".")
    fraction = fraction.rstrip("0")
    return f"{letter}{int(whole)}" + (f".{fraction}" if fraction else "")


def read_lines(path: Path, *, max_lines: int) -> Iterator[tuple[int, str]]:
    """(number, text) of each line; raises `TooManyLines` past `max_lines`, `BinaryContent` on NUL bytes."""
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, start=1):
            if number > max_lines:
                raise TooManyLines(max_lines)
            if b"\x00" in raw:
                raise BinaryContent(number)
            yield number, raw.decode("utf-8", errors="replace")


def read_commands(path: Path, *, max_lines: int, dialect: Dialect = "marlin") -> Iterator[Command]:
    """Yield the readable commands (lines with a `problem` are skipped: for sniffing, not for safety)."""
    for number, text in read_lines(path, max_lines=max_lines):
        command = parse_line(number, text, dialect)
        if command is not None and command.problem is None:
            yield command


class TooManyLines(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} lines")
        self.limit = limit


class BinaryContent(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(f"binary content at line {line}")
        self.line = line
