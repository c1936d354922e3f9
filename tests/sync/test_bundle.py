"""The exchange file alone (no service): whole or refused, the passphrase, and the hours' union rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from fablabctl.errors import Invalid
from fablabctl.people.hours import union_seconds
from fablabctl.sync.bundle import MAGIC, open_bundle, write_bundle

KEY = b"cle-du-jeton"
ITEMS = [{"key": "u1", "kind": "journal", "payload": {"uuid": "u1", "text": "Léa a fini la ruche"}}]


def bundle(passphrase: str | None = None) -> bytes:
    return write_bundle(
        key=KEY,
        site="camion-1",
        cohort_id=3,
        created_at="2026-12-01T10:00:00+00:00",
        items=ITEMS,
        files={},
        passphrase=passphrase,
    )


def code_of(data: bytes, keys: list[bytes] = [KEY], passphrase: str | None = None) -> str:  # noqa: B006
    with pytest.raises(Invalid) as caught:
        open_bundle(data, keys, passphrase)
    return caught.value.code


def test_a_plain_file_opens_with_the_token_key_only() -> None:
    data = bundle()
    assert open_bundle(data, [b"other", KEY], None).items == ITEMS
    assert code_of(data, keys=[b"another token"]) == "SYNC_FILE_DAMAGED"


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[:-10],  # cut short
        lambda d: d[:-1] + bytes([d[-1] ^ 0x40]),  # one bit in the body
        lambda d: d.replace(b'"cohort_id": 3', b'"cohort_id": 4'),  # the header edited
        lambda d: d + b"tail",  # something added
        lambda d: MAGIC + b"{not json\n" + d[len(MAGIC) :],
    ],
)
def test_any_damage_refuses_the_whole_file(damage: object) -> None:
    for passphrase in (None, "phrase"):
        assert code_of(damage(bundle(passphrase)), passphrase=passphrase) == "SYNC_FILE_DAMAGED"  # type: ignore[operator]


def test_not_an_export_file() -> None:
    assert code_of(b"PK\x03\x04 a zip") == "SYNC_FILE_NOT_EXPORT"


def test_encrypted_file_hides_the_names_and_needs_its_passphrase() -> None:
    data = bundle("une longue phrase")
    assert "Léa".encode() not in data and b"ruche" not in data
    header = json.loads(data[len(MAGIC) :].split(b"\n", 1)[0])
    assert header["encrypted"] and header["kdf"]["name"] == "scrypt"
    assert code_of(data) == "SYNC_PASSPHRASE_NEEDED"
    assert code_of(data, passphrase="une autre phrase") == "SYNC_BAD_PASSPHRASE"
    assert open_bundle(data, [KEY], "une longue phrase").items == ITEMS


def test_shared_time_counts_once() -> None:
    def t(h: int, m: int) -> datetime:
        return datetime(2026, 12, 1, h, m, tzinfo=UTC)

    spans = [(t(9, 5), t(12, 30)), (t(9, 0), t(12, 30)), (t(13, 30), t(17, 0)), (t(14, 0), t(15, 0))]
    assert union_seconds(spans) == (3 * 3600 + 30 * 60) * 2
