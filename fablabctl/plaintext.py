"""One-line free text typed by a person: no control characters, no bidirectional overrides.

A control character in a name or a material shows up in a terminal, a CSV or a label as a broken
line or an escape sequence; a bidi override makes a name read differently from what is stored.
Such input is refused (422 in the API's error shape), never silently cleaned.
"""

from __future__ import annotations

import unicodedata

from pydantic import AfterValidator

from fablabctl.i18n import Text, TextValueError

_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")


def no_control(value: str) -> str:
    for char in value:
        if char in _BIDI or unicodedata.category(char) == "Cc":
            raise TextValueError(
                Text(
                    "caractère de contrôle U+{code:04X} interdit",
                    "control character U+{code:04X} not allowed",
                ).format(code=ord(char))
            )
    return value


NoControl = AfterValidator(no_control)  # use as `Annotated[str, StringConstraints(...), NoControl]`
