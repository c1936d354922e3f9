"""Content-addressed file store: a design's bytes live at designs/<h[:2]>/<sha256>, written atomically.

Uploads are streamed to a temporary file while counting and hashing, so an oversized upload is
refused as soon as it crosses the limit and never fills the disk or the memory.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from fablabctl.errors import FablabError, TooLarge
from fablabctl.i18n import Text

CHUNK = 1024 * 1024
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


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


STORAGE_FULL = Text(
    "Le disque du service est plein : le fichier n'a pas été enregistré. Prévenez l'administrateur.",
    "The service's disk is full: the file was not saved. Tell the administrator.",
)


def storage_full() -> FablabError:
    return FablabError("STORAGE_FULL", STORAGE_FULL, status=507)


class StagedFile:
    """An upload being written: a private temporary file in the store, hashed and counted as it
    grows. Nothing is visible under its content address until `keep()`; `discard()` leaves no trace.
    A full disk (ENOSPC, EDQUOT, EFBIG) is a 507 `STORAGE_FULL`, with the partial file removed."""

    def __init__(self, root: Path, *, limit_bytes: int) -> None:
        self.root = root
        self.limit_bytes = limit_bytes
        self.size = 0
        self._digest = hashlib.sha256()
        try:
            root.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=root, prefix=".upload-")
        except OSError as exc:
            raise self._os_error(exc) from None
        self.path = Path(name)
        self._out: BinaryIO | None = os.fdopen(fd, "wb")

    def _os_error(self, exc: OSError) -> Exception:
        if exc.errno in _FULL:
            return storage_full()
        return exc

    def write(self, chunk: bytes) -> None:
        assert self._out is not None, "write after finish"
        self.size += len(chunk)
        if self.size > self.limit_bytes:
            self.discard()
            raise too_large(self.limit_bytes)
        self._digest.update(chunk)
        try:
            self._out.write(chunk)
        except OSError as exc:
            self.discard()
            raise self._os_error(exc) from None

    def finish(self) -> str:
        """Flush to disk; the content's SHA-256."""
        assert self._out is not None, "finish twice"
        try:
            self._out.flush()
            os.fsync(self._out.fileno())
            self._out.close()
        except OSError as exc:
            self.discard()
            raise self._os_error(exc) from None
        self._out = None
        return self._digest.hexdigest()

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def keep(self) -> StoredFile:
        """Move the finished file to its content address (or drop it: the same bytes are there)."""
        sha = self.sha256
        final = path_for(self.root, sha)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                self.path.unlink(missing_ok=True)
            else:
                os.replace(self.path, final)
        except OSError as exc:
            self.discard()
            raise self._os_error(exc) from None
        return StoredFile(sha256=sha, size_bytes=self.size, path=final)

    def discard(self) -> None:
        if self._out is not None:
            with contextlib.suppress(OSError):
                self._out.close()
            self._out = None
        self.path.unlink(missing_ok=True)


def store_stream(root: Path, chunks: Iterable[bytes], *, limit_bytes: int) -> StoredFile:
    """Write chunks to the store; refuse (and delete the partial file) past `limit_bytes`."""
    staged = StagedFile(root, limit_bytes=limit_bytes)
    try:
        for chunk in chunks:
            staged.write(chunk)
        staged.finish()
        return staged.keep()
    except BaseException:
        staged.discard()
        raise


def store_bytes(root: Path, data: bytes, *, limit_bytes: int) -> StoredFile:
    return store_stream(
        root, [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""], limit_bytes=limit_bytes
    )
