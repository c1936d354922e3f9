"""Bilingual text: every user-facing message exists in French (first) and English.

Messages are values (`Text`), chosen at the edge (API: Accept-Language; CLI: --lang), never
formatted into one language deep inside the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lang = Literal["fr", "en"]
LANGS: tuple[Lang, ...] = ("fr", "en")
DEFAULT_LANG: Lang = "fr"


@dataclass(frozen=True, slots=True)
class Text:
    """One message in both languages."""

    fr: str
    en: str

    def in_(self, lang: Lang) -> str:
        return self.en if lang == "en" else self.fr

    def format(self, **values: object) -> Text:
        """Fill the `{name}` placeholders of both languages with the same values."""
        return Text(self.fr.format(**values), self.en.format(**values))

    def as_dict(self) -> dict[str, str]:
        return {"fr": self.fr, "en": self.en}


def pick_lang(accept_language: str | None) -> Lang:
    """Choose fr or en from an Accept-Language header (French when nothing matches)."""
    if not accept_language:
        return DEFAULT_LANG
    best: tuple[float, Lang] | None = None
    for part in accept_language.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        for lang in LANGS:
            if primary == lang and (best is None or quality > best[0]):
                best = (quality, lang)
    return best[1] if best else DEFAULT_LANG


class TextValueError(ValueError):
    """A validator's refusal with its explanation in both languages (pydantic reports it as
    `value_error`; `web/input_errors.py` shows the reader's language). `str()` is the English text."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.en)
        self.text = text
