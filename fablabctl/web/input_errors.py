"""Input errors in the user's language: pydantic's error types turned into French and English text.

pydantic explains a refused value in English ("String should have at least 2 characters"). Its error
`type` and `ctx` are stable, so each type the API can produce maps to a `Text` here, filled from `ctx`
(`string_too_short` → « au moins 2 caractères »). A validator of ours raises `TextValueError` to give
its own bilingual explanation. A type missing from the table still gets a plain message in both
languages, never pydantic's English alone in French.

Used by the API's 422 handler (`web/errors.py`) and usable by the pages for their forms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fablabctl.i18n import Lang, Text, TextValueError

_DATE = Text("date attendue au format AAAA-MM-JJ", "date expected as YYYY-MM-DD")
_DATETIME = Text(
    "date et heure attendues au format AAAA-MM-JJTHH:MM", "date and time expected as YYYY-MM-DDTHH:MM"
)
_TIME = Text("heure attendue au format HH:MM", "time expected as HH:MM")
_INT = Text("nombre entier attendu", "whole number expected")
_NUMBER = Text("nombre attendu", "number expected")
_BOOL = Text("vrai ou faux attendu (true / false)", "true or false expected")
_TEXT = Text("texte attendu", "text expected")
_OBJECT = Text("objet JSON attendu", "JSON object expected")
_LIST = Text("liste attendue", "list expected")
_UUID = Text("identifiant UUID attendu", "UUID expected")
_URL = Text("adresse web (URL) invalide", "invalid web address (URL)")
_IP = Text("adresse IP invalide", "invalid IP address")
_CHOICE = Text("valeur attendue : {expected}", "expected: {expected}")

MESSAGES: dict[str, Text] = {
    "missing": Text("champ obligatoire", "field required"),
    "extra_forbidden": Text("champ inconnu", "unknown field"),
    "none_required": Text("doit être vide (null)", "must be empty (null)"),
    # text
    "string_type": _TEXT,
    "string_sub_type": _TEXT,
    "string_unicode": Text("texte Unicode invalide", "invalid Unicode text"),
    "string_too_short": Text("au moins {min_length} caractère(s)", "at least {min_length} character(s)"),
    "string_too_long": Text("au plus {max_length} caractère(s)", "at most {max_length} character(s)"),
    "string_pattern_mismatch": Text("format invalide", "invalid format"),
    "bytes_type": Text("données binaires attendues", "binary data expected"),
    "bytes_too_short": Text("au moins {min_length} octet(s)", "at least {min_length} byte(s)"),
    "bytes_too_long": Text("au plus {max_length} octet(s)", "at most {max_length} byte(s)"),
    # numbers
    "int_type": _INT,
    "int_parsing": _INT,
    "int_from_float": Text("nombre entier attendu (sans décimales)", "whole number expected (no decimals)"),
    "int_parsing_size": Text("nombre trop grand", "number too large"),
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "finite_number": Text("nombre fini attendu", "finite number expected"),
    "decimal_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "decimal_max_digits": Text("au plus {max_digits} chiffres", "at most {max_digits} digits"),
    "decimal_max_places": Text(
        "au plus {decimal_places} décimale(s)", "at most {decimal_places} decimal place(s)"
    ),
    "decimal_whole_digits": Text(
        "au plus {whole_digits} chiffre(s) avant la virgule",
        "at most {whole_digits} digit(s) before the point",
    ),
    "greater_than": Text("doit être supérieur à {gt}", "must be greater than {gt}"),
    "greater_than_equal": Text("doit être au moins {ge}", "must be at least {ge}"),
    "less_than": Text("doit être inférieur à {lt}", "must be less than {lt}"),
    "less_than_equal": Text("doit être au plus {le}", "must be at most {le}"),
    "multiple_of": Text("doit être un multiple de {multiple_of}", "must be a multiple of {multiple_of}"),
    # booleans, choices
    "bool_type": _BOOL,
    "bool_parsing": _BOOL,
    "literal_error": _CHOICE,
    "enum": _CHOICE,
    "union_tag_invalid": Text(
        "type inconnu : {tag} (attendu : {expected_tags})", "unknown type: {tag} (expected: {expected_tags})"
    ),
    "union_tag_not_found": Text("le champ {discriminator} manque", "the field {discriminator} is missing"),
    # dates and times
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": Text("date sans heure attendue", "a date without a time expected"),
    "date_past": Text("doit être dans le passé", "must be in the past"),
    "date_future": Text("doit être dans le futur", "must be in the future"),
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME,
    "datetime_past": Text("doit être dans le passé", "must be in the past"),
    "datetime_future": Text("doit être dans le futur", "must be in the future"),
    "timezone_naive": Text("heure sans fuseau horaire attendue", "time without a time zone expected"),
    "timezone_aware": Text("heure avec fuseau horaire attendue", "time with a time zone expected"),
    "time_type": _TIME,
    "time_parsing": _TIME,
    "time_delta_type": Text("durée attendue", "duration expected"),
    "time_delta_parsing": Text("durée attendue", "duration expected"),
    # containers
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "dataclass_type": _OBJECT,
    "list_type": _LIST,
    "tuple_type": _LIST,
    "set_type": _LIST,
    "frozen_set_type": _LIST,
    "iterable_type": _LIST,
    "too_short": Text("au moins {min_length} élément(s)", "at least {min_length} item(s)"),
    "too_long": Text("au plus {max_length} élément(s)", "at most {max_length} item(s)"),
    "set_item_not_hashable": Text("élément invalide", "invalid item"),
    # identifiers and addresses
    "uuid_type": _UUID,
    "uuid_parsing": _UUID,
    "uuid_version": _UUID,
    "url_type": _URL,
    "url_parsing": _URL,
    "url_syntax_violation": _URL,
    "url_too_long": _URL,
    "url_scheme": Text(
        "adresse web : {expected_schemes} attendu", "web address: {expected_schemes} expected"
    ),
    "ip_any_address": _IP,
    "ip_v4_address": _IP,
    "ip_v6_address": _IP,
    # JSON
    "json_invalid": Text("JSON invalide", "invalid JSON"),
    "json_type": Text("texte JSON attendu", "JSON text expected"),
    # the checks of our own validators, when they give no bilingual text
    "value_error": Text("valeur invalide", "invalid value"),
    "assertion_error": Text("valeur invalide", "invalid value"),
    "frozen_field": Text("ce champ ne peut pas être modifié", "this field cannot be changed"),
    "frozen_instance": Text("ne peut pas être modifié", "cannot be changed"),
}
FALLBACK = Text("valeur invalide", "invalid value")


def _choices(expected: object, lang: Lang) -> str:
    """pydantic's "'fr' or 'en'" list, with the French conjunction in French."""
    text = str(expected)
    return text.replace(" or ", " ou ") if lang == "fr" else text


def describe_error(error: Mapping[str, Any], lang: Lang) -> str:
    """One pydantic error (an item of `ValidationError.errors()`) as a short phrase in `lang`."""
    kind = str(error.get("type", ""))
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind in ("value_error", "assertion_error"):
        cause = ctx.get("error")
        if isinstance(cause, TextValueError):
            return cause.text.in_(lang)
        # an English-only check of a library: English as is, a plain phrase in French
        return str(error.get("msg", "")).removeprefix("Value error, ") if lang == "en" else FALLBACK.fr
    template = MESSAGES.get(kind)
    if template is None:
        return str(error.get("msg", "")) if lang == "en" else FALLBACK.fr
    if "expected" in ctx:
        ctx["expected"] = _choices(ctx["expected"], lang)
    try:
        return template.in_(lang).format(**ctx)
    except (KeyError, IndexError, ValueError):
        return template.in_(lang).split("{")[0].rstrip(" :(") or FALLBACK.in_(lang)


def field_name(loc: Sequence[object]) -> str:
    """`body.connection.port` → `connection.port`: where the value was, as the client sent it."""
    return ".".join(str(p) for p in loc if p != "body")
