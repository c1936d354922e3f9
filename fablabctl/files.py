"""Cache files written so that a concurrent reader never sees half of one.

Copies of a job may be prepared on several machines at once: each writer uses a private name next
to the final file and renames it over the final name when complete (a rename is atomic).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def written_aside(path: Path) -> Iterator[Path]:
    """Yield a private path to write; when the block ends normally, it replaces `path`."""
    partial = path.with_suffix(f".{os.getpid()}-{threading.get_ident()}.part")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_atomic(path: Path, text: str) -> None:
    with written_aside(path) as partial:
        partial.write_text(text)
