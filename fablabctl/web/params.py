"""Bounded path and query parameters shared by every router: no integer the database cannot hold.

SQLite and PostgreSQL store ids as signed 64-bit integers; a bigger number in a URL used to reach
the driver and fail there (a 500). Declared here once, refused with a 422 that names the field.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**63 - 1

Id = Annotated[int, Path(ge=1, le=MAX_ID, description="Identifier (1 to 2^63-1)")]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Filter by this id")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Rows to skip")]
Limit = Annotated[int, Query(ge=1, le=1000, description="Rows to return (at most 1000)")]
