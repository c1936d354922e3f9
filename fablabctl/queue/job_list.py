"""The job list as the API sends it, straight from rows to JSON (see `db/fast_rows.py`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from fablabctl.db.fast_rows import RowsJson
from fablabctl.db.models import Job
from fablabctl.i18n import Lang
from fablabctl.queue.reasons import render
from fablabctl.queue.schemas import JobOut

JOB_ROWS = RowsJson(Job.__table__, JobOut)


def job_list_json(session: Session, query: Select[Any], lang: Lang) -> bytes:
    """`[JobOut, ...]` for the jobs `query` selects, each coded reason in `lang` (as `JobOut.of`)."""
    rows = JOB_ROWS.rows(session, query)
    for row in rows:
        if row["reason_code"] is not None:
            row["reason"] = render(row["reason_code"], row["reason_params"], row["reason"], lang)
    return JOB_ROWS.dump(rows)
