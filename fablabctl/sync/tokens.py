"""Site tokens: an admin issues one for one van and one cohort; only its SHA-256 is stored.

A token lets a van pull what it needs for its cohort and push its own records for that cohort,
nothing else. Revoked tokens are refused at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.clock import utc_now
from fablabctl.db.models import Cohort, Site, SyncToken, User
from fablabctl.errors import Forbidden, NotFound, Unauthorized, not_found
from fablabctl.i18n import Text
from fablabctl.sites import get_or_create_site

TOKEN_PREFIX = "fsync_"
BAD_TOKEN = Text(
    "Jeton de site inconnu ou révoqué : demandez-en un à l'administrateur du site central.",
    "Unknown or revoked site token: ask the central site's administrator for one.",
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    id: int
    site: str
    cohort_id: int
    token: str


@dataclass(frozen=True, slots=True)
class TokenScope:
    """What a presented token allows: one site's records for one cohort."""

    token_id: int
    site_id: int
    site: str
    cohort_id: int
    key: bytes  # the stored hash, used as the export file's integrity key


def issue(session: Session, *, actor: User | None, site_name: str, cohort_id: int) -> IssuedToken:
    if session.get(Cohort, cohort_id) is None:
        raise not_found("cohort", cohort_id)
    site = get_or_create_site(session, site_name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = SyncToken(
        site_id=site.id,
        cohort_id=cohort_id,
        token_hash=token_hash(token),
        created_by_id=actor.id if actor else None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session, actor=actor, action="sync.token.add", target_type="site", target_id=site.id, cohort=cohort_id
    )
    return IssuedToken(row.id, site.name, cohort_id, token)


def revoke(session: Session, *, actor: User | None, token_id: int) -> None:
    row = session.get(SyncToken, token_id)
    if row is None:
        raise NotFound(
            "SYNC_TOKEN_NOT_FOUND", Text(f"Jeton {token_id} introuvable.", f"Token {token_id} not found.")
        )
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        audit.record(
            session, actor=actor, action="sync.token.revoke", target_type="sync_token", target_id=row.id
        )


def list_tokens(session: Session) -> list[dict[str, object]]:
    rows = session.execute(
        select(SyncToken, Site.name).join(Site, Site.id == SyncToken.site_id).order_by(SyncToken.id)
    )
    return [
        {
            "id": t.id,
            "site": name,
            "cohort_id": t.cohort_id,
            "created_at": t.created_at.isoformat(),
            "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
            "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
        }
        for t, name in rows
    ]


def _scope(session: Session, row: SyncToken) -> TokenScope:
    site = session.get(Site, row.site_id)
    assert site is not None
    return TokenScope(row.id, site.id, site.name, row.cohort_id, row.token_hash.encode())


def authenticate(session: Session, token: str | None, *, cohort_id: int | None = None) -> TokenScope:
    """The scope of a live token; 401 when unknown or revoked, 403 for another cohort."""
    row = session.scalar(select(SyncToken).where(SyncToken.token_hash == token_hash(token or "")))
    if not token or row is None or row.revoked_at is not None:
        raise Unauthorized("SYNC_TOKEN_INVALID", BAD_TOKEN)
    if cohort_id is not None and cohort_id != row.cohort_id:
        raise Forbidden(
            "SYNC_TOKEN_WRONG_COHORT",
            Text(
                f"Ce jeton de site est pour la cohorte {row.cohort_id}, pas pour la cohorte {cohort_id}.",
                f"This site token is for cohort {row.cohort_id}, not for cohort {cohort_id}.",
            ),
        )
    row.last_used_at = utc_now()
    return _scope(session, row)


def live_scopes(session: Session, *, site_name: str, cohort_id: int) -> list[TokenScope]:
    """The live tokens of a site and cohort (an imported file is checked against their keys)."""
    rows = session.scalars(
        select(SyncToken)
        .join(Site, Site.id == SyncToken.site_id)
        .where(Site.name == site_name, SyncToken.cohort_id == cohort_id, SyncToken.revoked_at.is_(None))
    )
    return [_scope(session, row) for row in rows]
