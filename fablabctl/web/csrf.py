"""CSRF for the API: a write authenticated by the session cookie must carry `X-CSRF-Token`.

A browser sends the cookie by itself, so a cookie alone proves nothing about who wrote the request;
the token (derived from the session, shown only in the pages: `<body data-csrf>` and every form) does.
Bearer-token clients (the CLI, scripts) send no cookie a foreign page could use: they are not asked.
The pages' own forms use the same token (`pages/core.py`).
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from fablabctl.errors import Forbidden
from fablabctl.i18n import Text

HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FAILED = Text(
    "La page a expiré : rechargez-la puis recommencez.", "The page has expired: reload it and try again."
)


def token_for_session(session_token: str) -> str:
    """The CSRF token of one login session (stable for the session, useless without it)."""
    return hmac.new(b"fablab-csrf", session_token.encode(), hashlib.sha256).hexdigest()[:40]


def check_cookie_write(request: Request, session_token: str) -> None:
    """Raise 403 `CSRF_FAILED` for a write authenticated by the cookie without the session's token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(HEADER) or ""
    if not sent or not hmac.compare_digest(sent, token_for_session(session_token)):
        raise Forbidden("CSRF_FAILED", CSRF_FAILED)
