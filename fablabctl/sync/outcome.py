"""What the central site says about one pushed record: applied, already there, flagged, refused, later."""

from __future__ import annotations

from dataclasses import dataclass

from fablabctl.i18n import Text

APPLIED, DUPLICATE, FLAGGED, REFUSED, RETRY = "applied", "duplicate", "flagged", "refused", "retry"
ACKED = frozenset({APPLIED, DUPLICATE, FLAGGED, REFUSED})  # the van may forget these ("retry": send again)


@dataclass(slots=True)
class Outcome:
    status: str
    local_id: int | None = None
    code: str | None = None
    message: Text | None = None


class Refusal(Exception):
    """A record the central site cannot take as it is; `retry` when a later push may succeed."""

    def __init__(self, code: str, message: Text, *, retry: bool = False) -> None:
        super().__init__(code)
        self.code, self.message, self.retry = code, message, retry


def unknown_person(name: str | None) -> Refusal:
    return Refusal(
        "SYNC_UNKNOWN_PERSON",
        Text(
            f"Personne inconnue ou non inscrite dans la cohorte au site central : {name}.",
            f"Person unknown or not enrolled in the cohort at the central site: {name}.",
        ),
    )


def missing(code: str, what_fr: str, what_en: str) -> Refusal:
    return Refusal(
        code,
        Text(
            f"{what_fr} pas encore reçu : il sera repris au prochain envoi.",
            f"{what_en} not received yet: it will be taken on the next push.",
        ),
        retry=True,
    )
