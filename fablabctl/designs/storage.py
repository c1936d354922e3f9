"""Content-addressed file store: a design's bytes live at designs/<h[:2]>/<sha256>, written atomically.

Uploads are streamed to a temporary file while counting and hashing, so an oversized upload is
refused as soon as it crosses the limit and never fills the disk or the memory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fablabctl.errors import TooLarge
from fablabctl.i18n import Text

CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    size_bytes: int
    path: Path


def path_for(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256


def too_large(limit_bytes: int) -> TooLarge:
    mb = limit_bytes / (1024 * 1024)
    return TooLarge(
        "UPLOAD_TOO_LARGE",
        Text(
            f"Fichier trop gros : la limite est de {mb:.0f} Mo.", f"File too large: the limit is {mb:.0f} MB."
        ),
        limit_bytes=limit_bytes,
    )


def store_stream(root: Path, chunks: Iterable[bytes], *, limit_bytes: int) -> StoredFile:
    """Write chunks to the store; refuse (and delete the partial file) past `limit_bytes`."""
    root.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit_bytes:
                    raise too_large(limit_bytes)
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        final = path_for(root, sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            tmp.unlink()
        else:
            os.replace(tmp, final)
        return StoredFile(sha256=sha, size_bytes=size, path=final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def store_bytes(root: Path, data: bytes, *, limit_bytes: int) -> StoredFile:
    return store_stream(
        root, [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""], limit_bytes=limit_bytes
    )
