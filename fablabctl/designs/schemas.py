"""Design records as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class DesignOut(BaseModel):
    id: int
    filename: str
    sha256: str
    size_bytes: int
    file_type: str
    ok: bool
    owner_id: int
    derived_from_id: int | None
    created_at: datetime
    report: dict[str, Any]
