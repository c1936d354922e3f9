"""The baseline of bench/api.py: a minimal FastAPI app serving the same 200 job rows from the same
database with one plain SQL query (no login, no roles, no ORM, no response model), two ways:
`/jobs` returns the rows and lets FastAPI encode them (its default, `jsonable_encoder`), `/jobs-raw`
encodes them itself with one `json.dumps` (the faster of the two, the one the target is against).
It runs with the service's number of worker threads (`WEB_THREADS`).

Run by the bench as `uvicorn api_baseline:app --app-dir bench` with BENCH_DATABASE_URL set.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Response
from sqlalchemy import JSON, create_engine, text

from fablabctl.db.engine import WEB_THREADS

COLUMNS = (
    "id, design_id, kind, material, quantity, priority, state, reason, owner_id, submitted_by_id, "
    "approved_by_id, cohort_id, pinned_machine_id, machine_id, attempt_of_id, run_of_id, run_number, "
    "settings, requested_action, progress, estimates, machine_seconds, queued_at, preparing_at, "
    "running_at, finished_at, created_at, updated_at"
)
QUERY = text(f"SELECT {COLUMNS} FROM jobs ORDER BY id DESC LIMIT 200").columns(settings=JSON, estimates=JSON)

engine = create_engine(os.environ["BENCH_DATABASE_URL"], pool_size=10, max_overflow=40)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # as many worker threads as the service (FastAPI's default of 40 fights for the GIL on 2 cores
    # and would make the baseline look slower than it is)
    anyio.to_thread.current_default_thread_limiter().total_tokens = WEB_THREADS
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/jobs")
def jobs() -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(QUERY).mappings()]


@app.get("/jobs-raw")
def jobs_raw() -> Response:
    with engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(QUERY).mappings()]
    return Response(json.dumps(rows, default=str), media_type="application/json")
