"""A small, bounded G-code reader: one `Command` per line, comments stripped, words parsed.

Enough of the language for safety checks and estimates (G0-G3, G4, G20/21, G90/91, G92, M82/83,
temperatures, laser power); it does not try to be a full interpreter.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

WORD = re.compile(r"([A-Za-z])\s*([-+]?(?:\d+\.?\d*|\.\d+))")
PAREN_COMMENT = re.compile(r"\([^)]*\)")


@dataclass(frozen=True, slots=True)
class Command:
    line: int
    code: str  # "G1", "M104", "$" for a GRBL system command, "" for a line with only parameters
    params: dict[str, float]
    raw: str


def strip_comment(text: str) -> str:
    return PAREN_COMMENT.sub("", text.split(";", 1)[0]).strip()


def parse_line(number: int, text: str) -> Command | None:
    body = strip_comment(text)
    if not body:
        return None
    if body.startswith("$"):
        return Command(number, "$", {}, body)
    params: dict[str, float] = {}
    code = ""
    for letter, value in WORD.findall(body):
        letter = letter.upper()
        if letter == "N" and not code and not params:
            continue  # line number
        if letter in "GMT" and not code:
            number_text = value.lstrip("+")
            code = (
                f"{letter}{float(number_text):g}"
                if "." in number_text
                else f"{letter}{int(float(number_text))}"
            )
        else:
            params[letter] = float(value)
    return Command(number, code, params, body)


def read_commands(path: Path, *, max_lines: int) -> Iterator[Command]:
    """Yield commands; raises `TooManyLines` past `max_lines` and `BinaryContent` on NUL bytes."""
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, start=1):
            if number > max_lines:
                raise TooManyLines(max_lines)
            if b"\x00" in raw:
                raise BinaryContent(number)
            command = parse_line(number, raw.decode("utf-8", errors="replace"))
            if command is not None:
                yield command


class TooManyLines(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} lines")
        self.limit = limit


class BinaryContent(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(f"binary content at line {line}")
        self.line = line
