"""Central side entry points used by the API and by `sync import`: files, pushes, imported files."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from fablabctl.content_store import StagedFile, path_for, store_bytes
from fablabctl.errors import Invalid
from fablabctl.i18n import Text
from fablabctl.sync import tokens
from fablabctl.sync.apply import apply_batch
from fablabctl.sync.bundle import open_bundle, read_header
from fablabctl.sync.codec import is_sha256

MAX_BATCH = 500


def missing_files(designs_dir: Path, hashes: list[str]) -> list[str]:
    return [h for h in hashes if is_sha256(h) and not path_for(designs_dir, h).is_file()]


HASH_MISMATCH = Text(
    "Le fichier reçu ne correspond pas à son empreinte : renvoyez-le.",
    "The file received does not match its hash: send it again.",
)


def store_file(designs_dir: Path, sha256: str, data: bytes) -> bool:
    """Keep a pushed design file once; False when it was already there."""
    if not is_sha256(sha256) or hashlib.sha256(data).hexdigest() != sha256:
        raise Invalid("SYNC_FILE_HASH", HASH_MISMATCH)
    if path_for(designs_dir, sha256).is_file():
        return False
    store_bytes(designs_dir, data, limit_bytes=len(data) + 1)
    return True


async def receive_file(designs_dir: Path, sha256: str, body: AsyncIterator[bytes], limit_bytes: int) -> bool:
    """A pushed design file streamed to a private temporary file (never whole in memory), kept under
    its address only when its bytes have the hash announced; False when it was already there."""
    if not is_sha256(sha256):
        raise Invalid("SYNC_FILE_HASH", HASH_MISMATCH)
    staged = StagedFile(designs_dir, limit_bytes=limit_bytes)
    try:
        async for chunk in body:
            staged.write(chunk)
        if staged.finish() != sha256:
            raise Invalid("SYNC_FILE_HASH", HASH_MISMATCH)
        if path_for(designs_dir, sha256).is_file():
            return False
        staged.keep()
        return True
    finally:
        staged.discard()  # after keep() the temporary name is gone: nothing to remove


def push(session: Session, scope: tokens.TokenScope, items: Any, designs_dir: Path) -> list[dict[str, Any]]:
    if not isinstance(items, list) or len(items) > MAX_BATCH:
        raise Invalid(
            "SYNC_BAD_BATCH", Text("Lot d'enregistrements illisible.", "Unreadable batch of records.")
        )
    return apply_batch(session, scope, items, designs_dir, via="push")


def import_file(
    session: Session, data: bytes, passphrase: str | None, designs_dir: Path
) -> list[dict[str, Any]]:
    """Apply an exported file on this (central) site: checked whole first, then merged like a push."""
    header, _ = read_header(data)
    scopes = tokens.live_scopes(session, site_name=header["site"], cohort_id=header["cohort_id"])
    if not scopes:
        raise Invalid(
            "SYNC_NO_TOKEN",
            Text(
                f"Aucun jeton de site valide pour « {header['site']} » et la cohorte {header['cohort_id']} : "
                "le fichier ne peut pas être vérifié.",
                f"No live site token for '{header['site']}' and cohort {header['cohort_id']}: "
                "the file cannot be verified.",
            ),
        )
    contents = open_bundle(data, [s.key for s in scopes], passphrase)
    for sha, blob in contents.files.items():
        store_file(designs_dir, sha, blob)
    results: list[dict[str, Any]] = []
    for start in range(0, len(contents.items), MAX_BATCH):
        results += apply_batch(
            session, scopes[0], contents.items[start : start + MAX_BATCH], designs_dir, via="import"
        )
    return results
