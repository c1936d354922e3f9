"""Van side of the USB-stick path: the waiting outbox written as one exchange file (see `bundle`).

Exporting acknowledges nothing: the records stay in the outbox until a push reaches the central
site; importing the same file twice, or pushing after an import, changes nothing there.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from fablabctl.clock import utc_now
from fablabctl.sync import outbox
from fablabctl.sync.bundle import write_bundle
from fablabctl.sync.client import central_cohort
from fablabctl.sync.codec import get_state
from fablabctl.sync.collect import collect
from fablabctl.sync.tokens import token_hash


def export_outbox(
    session: Session, *, token: str, passphrase: str | None, designs_dir: Path
) -> tuple[bytes, int]:
    cohort_id = central_cohort(session)
    site = get_state(session, "central")["site"]
    collect(session)
    rows = outbox.pending(session)
    files = {sha: outbox.read_file(designs_dir, sha) for sha in outbox.needed_files(rows)}
    data = write_bundle(
        key=token_hash(token).encode(),
        site=site,
        cohort_id=cohort_id,
        created_at=utc_now().isoformat(),
        items=[outbox.as_item(r) for r in rows],
        files=files,
        passphrase=passphrase,
    )
    outbox.note(session, "last_export", {"records": len(rows), "encrypted": passphrase is not None})
    return data, len(rows)
