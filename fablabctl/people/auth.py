"""Logins and sessions: one opaque token serves as the web cookie and the API bearer token.

Only the token's SHA-256 is stored. Tokens expire after `session_hours` and are revoked at logout.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.clock import Clock, utc_now
from fablabctl.db.models import AuthToken, User
from fablabctl.errors import TooManyRequests, Unauthorized
from fablabctl.i18n import Text
from fablabctl.people.passwords import DUMMY_HASH, verify_password
from fablabctl.people.ratelimit import LoginLimiter

BAD_CREDENTIALS = Text("Identifiant ou mot de passe incorrect.", "Wrong username or password.")
NOT_LOGGED_IN = Text("Connexion requise.", "You must log in.")
SESSION_EXPIRED = Text(
    "Session expirée ou invalide : reconnectez-vous.", "Session expired or invalid: log in again."
)


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: str
    user: User
    expires_at: datetime


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(
    session: Session,
    *,
    username: str,
    password: str,
    client: str,
    limiter: LoginLimiter,
    session_hours: float,
    clock: Clock = utc_now,
) -> LoginResult:
    """Check the password (throttled per account and per address) and open a session.

    A failure is committed (audit row `auth.login_failed`, the account's lock counter) before the 401
    is raised, in its own short transaction: the request's own transaction is rolled back with the 401.
    """
    user = session.scalar(select(User).where(User.username == username))
    unknown = None if user is not None else username
    wait = limiter.retry_after(address=client, unknown_name=unknown)
    if user is not None:
        wait = max(wait, limiter.account_wait(session, user.id, clock()))
    if wait > 0:
        raise _rate_limited(wait)
    valid = verify_password(user.password_hash if user else DUMMY_HASH, password)
    if user is None or not valid or not user.active:
        limiter.failed(address=client, unknown_name=unknown)
        _record_failure(session, user)
        raise Unauthorized("BAD_CREDENTIALS", BAD_CREDENTIALS)
    result = open_session(session, user, session_hours=session_hours, clock=clock)
    audit.record(session, actor=user, action="auth.login", target_type="user", target_id=user.id)
    return result


def _rate_limited(wait: float) -> TooManyRequests:
    seconds = math.ceil(wait)
    return TooManyRequests(
        "LOGIN_RATE_LIMITED",
        Text(
            f"Trop de tentatives : réessayez dans {seconds} s.",
            f"Too many attempts: try again in {seconds} s.",
        ),
        retry_after=seconds,
    )


def _record_failure(session: Session, user: User | None) -> None:
    """Store the failed attempt now: the account id only (no name typed, no address, no password)."""
    user_id = user.id if user else None
    session.rollback()  # the request wrote nothing yet: start a clean, short transaction
    audit.record(session, actor=None, action="auth.login_failed", target_type="user", target_id=user_id)
    session.commit()


def end_sessions(session: Session, user: User, *, reason: str, clock: Clock = utc_now) -> int:
    """Revoke every live token of this account (password reset, deactivation, reactivation)."""
    now = clock()
    tokens = session.scalars(
        select(AuthToken).where(AuthToken.user_id == user.id, AuthToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        token.revoked_at = now
    audit.record(
        session,
        actor=None,
        action="user.sessions_ended",
        target_type="user",
        target_id=user.id,
        reason=reason,
        count=len(tokens),
    )
    return len(tokens)


def open_session(
    session: Session, user: User, *, session_hours: float, clock: Clock = utc_now
) -> LoginResult:
    """Mint a token for an already-trusted user (after a password check, or the server-side CLI)."""
    token = secrets.token_urlsafe(32)
    expires_at = clock() + timedelta(hours=session_hours)
    session.add(AuthToken(user_id=user.id, token_hash=token_digest(token), expires_at=expires_at))
    return LoginResult(token=token, user=user, expires_at=expires_at)


def authenticate(session: Session, token: str | None, *, clock: Clock = utc_now) -> User:
    """The user behind a token, or 401."""
    if not token:
        raise Unauthorized("NOT_AUTHENTICATED", NOT_LOGGED_IN)
    user = session.scalar(  # one query: every request runs it (revocation and deactivation at once)
        select(User)
        .join(AuthToken, AuthToken.user_id == User.id)
        .where(
            AuthToken.token_hash == token_digest(token),
            AuthToken.revoked_at.is_(None),
            AuthToken.expires_at > clock(),
            User.active.is_(True),
        )
    )
    if user is None:
        raise Unauthorized("SESSION_INVALID", SESSION_EXPIRED)
    return user


def logout(session: Session, token: str, *, clock: Clock = utc_now) -> None:
    row = session.scalar(select(AuthToken).where(AuthToken.token_hash == token_digest(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = clock()
        audit.record(session, actor=None, action="auth.logout", target_type="user", target_id=row.user_id)
