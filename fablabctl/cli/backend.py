"""How CLI commands reach the service: in-process on the server machine, or over HTTP with `--api`.

Both paths go through the same REST routes, so the CLI cannot drift from the API: locally the app
runs in-process against the database (acting as the site's administrator, since whoever can read
the data directory already holds all the data); remotely it is a plain HTTP client with a token.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from fablabctl.config import Settings, load_settings
from fablabctl.db.engine import make_session_factory, session_scope
from fablabctl.db.models import User
from fablabctl.i18n import DEFAULT_LANG, Lang, Text
from fablabctl.people import auth
from fablabctl.people.roles import Role
from fablabctl.startup import ensure_first_admin, prepare_database

API_PREFIX = "/api/v1"
TOKEN_ENV = "FABLAB_TOKEN"
FIRST_ADMIN = Text(
    "compte « {username} » créé, mot de passe : {password} (affiché une seule fois)",
    "account “{username}” created, password: {password} (shown only once)",
)


class ApiError(Exception):
    """The service refused: carries its stable code and its message in the user's language."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message


class Backend:
    """Sends API calls and turns error bodies into `ApiError`."""

    def __init__(self, client: httpx.Client, notice: str | None = None, lang: Lang = DEFAULT_LANG) -> None:
        self._client = client
        self.lang = lang
        self.notice = notice  # something to tell the operator once (e.g. a generated password)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._client.request(method, API_PREFIX + path, **kwargs)
        except httpx.HTTPError as exc:
            message = Text("service injoignable ({kind})", "service unreachable ({kind})")
            raise ApiError(
                0, "SERVICE_UNREACHABLE", message.format(kind=type(exc).__name__).in_(self.lang)
            ) from None
        if response.status_code >= 400:
            try:
                body = response.json()
                raise ApiError(response.status_code, body["code"], body["message"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(
                    response.status_code, f"HTTP_{response.status_code}", response.text[:200]
                ) from None
        if response.status_code == 204 or not response.content:
            return None
        if not response.headers.get("content-type", "").startswith("application/json"):
            return response.content  # a document (PDF, CSV, ZIP): the caller writes the bytes
        return response.json()


def token_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "fablabctl" / "tokens.json"


def saved_token(api: str) -> str | None:
    path = token_file()
    try:
        tokens: dict[str, str] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return tokens.get(api.rstrip("/"))


def save_token(api: str, token: str) -> Path:
    """Keep the token for this service URL, readable by this user only."""
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        tokens = json.loads(path.read_text())
    except (OSError, ValueError):
        tokens = {}
    tokens[api.rstrip("/")] = token
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(json.dumps(tokens, indent=2))
    return path


@contextmanager
def remote_backend(api: str, token: str | None, lang: Lang) -> Iterator[Backend]:
    headers: dict[str, str] = {"Accept-Language": lang}
    token = token or os.environ.get(TOKEN_ENV) or saved_token(api)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    with httpx.Client(base_url=api.rstrip("/"), headers=headers, timeout=60.0) as client:
        yield Backend(client, lang=lang)


@contextmanager
def local_backend(settings: Settings | None = None, lang: Lang | None = None) -> Iterator[Backend]:
    """Run the app in-process on this machine's database, as its administrator, for one command."""
    from fablabctl.cli.inprocess import InProcessTransport
    from fablabctl.web.app import build_context, create_app

    settings = settings or load_settings()
    lang = lang or settings.lang
    prepare_database(settings).dispose()
    context = build_context(settings)
    notice = None
    with session_scope(make_session_factory(context.engine)) as session:
        first = ensure_first_admin(session, settings)
        if first is not None and first.generated_password:
            notice = FIRST_ADMIN.format(username=first.username, password=first.generated_password).in_(lang)
        admin = session.scalars(
            select(User).where(User.role == Role.ADMIN.value, User.active.is_(True)).order_by(User.id)
        ).first()
        assert admin is not None  # ensure_first_admin guarantees one
        token = auth.open_session(session, admin, session_hours=1).token
    app = create_app(settings, context=context)
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": lang}
    try:
        # no lifespan: no dispatcher in a CLI call
        transport = InProcessTransport(app)
        with httpx.Client(transport=transport, base_url="http://local", headers=headers) as client:
            yield Backend(client, notice=notice, lang=lang)
    finally:
        with session_scope(context.sessions) as session:
            auth.logout(session, token)
        context.engine.dispose()
