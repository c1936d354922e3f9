"""422 answers speak the reader's language: no English from pydantic in a French message."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, ValidationError, field_validator

from fablabctl.i18n import Text, TextValueError
from fablabctl.web.input_errors import MESSAGES, describe_error

ENGLISH_FROM_PYDANTIC = ("String should", "Input should", "Field required", "should be", "Value error")


def _post_user(client: TestClient, auth: dict[str, str], lang: str, body: dict[str, object]) -> dict:  # type: ignore[type-arg]
    response = client.post("/api/v1/users", json=body, headers={**auth, "Accept-Language": lang})
    assert response.status_code == 422, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_short_username_is_explained_in_french_and_in_english(
    client: TestClient, headers: Callable[[str], dict[str, str]]
) -> None:
    body = {"username": "x", "display_name": "X", "role": "tigiste", "password": "assez-long-2026"}
    fr = _post_user(client, headers("admin"), "fr", body)
    assert fr["code"] == "INVALID_INPUT"
    assert fr["message"] == "Données invalides : username (au moins 2 caractère(s))."
    assert fr["detail"] == [
        {"field": "username", "problem": "au moins 2 caractère(s)", "type": "string_too_short"}
    ]
    en = _post_user(client, headers("admin"), "en", body)
    assert en["message"] == "Invalid data: username (at least 2 character(s))."


def test_every_kind_of_mistake_the_api_sees_is_french(
    client: TestClient, headers: Callable[[str], dict[str, str]]
) -> None:
    body = {"display_name": "X", "role": "chef", "password": 12}
    fr = _post_user(client, headers("admin"), "fr", body)
    problems = {p["field"]: p for p in fr["detail"]}
    assert problems["username"]["problem"] == "champ obligatoire"
    assert (
        problems["role"]["problem"].startswith("valeur attendue : 'admin'")
        and " ou " in problems["role"]["problem"]
    )
    assert problems["password"]["problem"] == "texte attendu"
    assert not any(word in fr["message"] for word in ENGLISH_FROM_PYDANTIC), fr["message"]

    query = client.get("/api/v1/jobs", params={"limit": "beaucoup"}, headers=headers("admin"))
    assert query.status_code == 422
    assert query.json()["detail"][0]["problem"] == "nombre entier attendu"
    too_big = client.get("/api/v1/jobs/0", headers={**headers("admin"), "Accept-Language": "en"})
    assert too_big.status_code == 422
    assert too_big.json()["detail"][0]["problem"] == "must be at least 1"


def test_our_own_checks_give_their_text_in_both_languages() -> None:
    class Slot(BaseModel):
        starts: int = Field(ge=0, le=24)

        @field_validator("starts")
        @classmethod
        def _even(cls, value: int) -> int:
            if value % 2:
                raise TextValueError(Text("heure paire attendue", "an even hour expected"))
            return value

    with pytest.raises(ValidationError) as odd:
        Slot(starts=3)
    error = odd.value.errors()[0]
    assert describe_error(error, "fr") == "heure paire attendue"
    assert describe_error(error, "en") == "an even hour expected"
    with pytest.raises(ValidationError) as late:
        Slot(starts=30)
    assert describe_error(late.value.errors()[0], "fr") == "doit être au plus 24"


def test_a_type_without_a_translation_is_never_english_in_french() -> None:
    error = {"type": "some_future_type", "msg": "Input should be something", "loc": ("x",), "ctx": {}}
    assert describe_error(error, "fr") == "valeur invalide"
    assert describe_error(error, "en") == "Input should be something"
    assert all(text.fr and text.en for text in MESSAGES.values())
