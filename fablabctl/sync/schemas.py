"""Plain shapes the sync shares with the hours output (no imports from people/ or web/)."""

from __future__ import annotations

from pydantic import BaseModel


class VanHoursOut(BaseModel):
    """Hours of one tigiste recorded in a van (a site other than the cohort's) and when they arrived."""

    site: str
    hours: float
    entries: int
    first_arrival: str
    last_arrival: str
    conflicts: int  # overlaps with presences recorded elsewhere, for a trainer to resolve
