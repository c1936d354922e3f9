"""Settings an admin may change while the service runs (hours rules, e-mail, the structure's name).

The environment (`FABLAB_...`) gives the defaults; an admin's override is stored in the database
(`runtime_settings`), audited (which key, never the value: the SMTP password is one), and applied to
the running service's settings at once. Every process applies the stored overrides when it starts
(`web.app.create_app`), so the CLI and another service process read the same values.
Only the keys below can change this way: the others (database, port, limits the dispatcher
or the middleware hold) need a restart and stay in the environment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from fablabctl import audit
from fablabctl.config import Settings
from fablabctl.db.models import RuntimeSetting, User
from fablabctl.errors import Invalid
from fablabctl.i18n import Text
from fablabctl.people.roles import Role, require

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Changeable:
    key: str
    label: Text
    secret: bool = False


CHANGEABLE: tuple[Changeable, ...] = (
    Changeable(
        "hours_rounding_minutes",
        Text("Arrondi des heures du jour (minutes)", "Rounding of each day's hours (minutes)"),
    ),
    Changeable(
        "daily_max_hours", Text("Maximum d'heures par jour (alerte)", "Daily maximum hours (warning)")
    ),
    Changeable(
        "absence_grace_minutes",
        Text("Délai avant de compter une absence (minutes)", "Delay before an absence counts (minutes)"),
    ),
    Changeable(
        "retention_days",
        Text("Conservation après la fin de la cohorte (jours)", "Kept after the cohort ends (days)"),
    ),
    Changeable("smtp_host", Text("Serveur SMTP (vide : pas d'e-mail)", "SMTP server (empty: no e-mail)")),
    Changeable("smtp_port", Text("Port SMTP", "SMTP port")),
    Changeable("smtp_user", Text("Utilisateur SMTP", "SMTP user")),
    Changeable("smtp_password", Text("Mot de passe SMTP", "SMTP password"), secret=True),
    Changeable("smtp_starttls", Text("SMTP avec STARTTLS", "SMTP with STARTTLS")),
    Changeable("smtp_from", Text("Adresse d'expédition", "Sender address")),
    Changeable("structure_name", Text("Nom de la structure (documents)", "Structure's name (documents)")),
    Changeable(
        "structure_address",
        Text("Adresse de la structure (lignes séparées par ;)", "Structure's address (lines separated by ;)"),
    ),
)
KEYS = {c.key: c for c in CHANGEABLE}
MAX_TEXT = 200


def _adapter(key: str) -> TypeAdapter[Any]:
    """The same type and limits as the settings object's field (`Field(ge=..., le=...)` included)."""
    field = Settings.model_fields[key]
    annotation: Any = field.annotation
    if field.metadata:
        annotation = Annotated[(annotation, *field.metadata)]
    return TypeAdapter(annotation)


def parse_value(key: str, raw: object) -> Any:
    """The value as the settings object takes it (same type and limits as `FABLAB_<KEY>`), or 422."""
    if key not in KEYS:
        raise Invalid("SETTING_UNKNOWN", Text(f"Réglage inconnu : {key}", f"Unknown setting: {key}"))
    if isinstance(raw, str) and (len(raw) > MAX_TEXT or any(ord(c) < 32 for c in raw)):
        raise Invalid(
            "SETTING_INVALID",
            Text(f"{key} : texte trop long ou illisible.", f"{key}: text too long or unreadable."),
            key=key,
        )
    try:
        return _adapter(key).validate_python(raw, strict=False)
    except ValidationError as exc:
        problem = exc.errors()[0].get("msg", "") if exc.errors() else ""
        raise Invalid(
            "SETTING_INVALID",
            Text(f"{key} : valeur refusée ({problem}).", f"{key}: value refused ({problem})."),
            key=key,
        ) from None


def overrides(session: Session) -> dict[str, Any]:
    return {row.key: row.value for row in session.scalars(select(RuntimeSetting)) if row.key in KEYS}


def apply(settings: Settings, values: dict[str, Any]) -> Settings:
    """The settings with the stored overrides (each checked again: a bad row is ignored, logged)."""
    good = {}
    for key, raw in values.items():
        try:
            good[key] = parse_value(key, raw)
        except Invalid:
            log.warning("stored setting %s ignored: invalid value", key)
    return settings.model_copy(update=good) if good else settings  # nothing stored: the same object


def current(context: Any, env: Settings) -> None:
    """The running settings become the environment's with the stored overrides (none when the
    table is missing: a database not migrated yet keeps the environment's values)."""
    factory: sessionmaker[Session] = context.sessions
    try:
        with factory() as session:
            values = overrides(session)
    except SQLAlchemyError as exc:
        log.debug("runtime settings not read: %s", exc)
        return
    context.settings = apply(env, values)


def change(*, session: Session, actor: User, base: Settings, values: dict[str, Any]) -> dict[str, Any]:
    """Store the admin's values (None: back to the environment's value); returns what was stored."""
    require(actor, frozenset({Role.ADMIN}))
    stored: dict[str, Any] = {}
    for key, raw in values.items():
        row = session.get(RuntimeSetting, key)
        if raw is None:
            if row is not None:
                session.delete(row)
                audit.record(
                    session, actor=actor, action="setting.reset", target_type="setting", target_id=key
                )
            continue
        value = parse_value(key, raw)
        if row is None:
            row = RuntimeSetting(key=key)
            session.add(row)
        row.value, row.updated_by_id = value, actor.id
        stored[key] = value
        audit.record(session, actor=actor, action="setting.change", target_type="setting", target_id=key)
    session.flush()
    return stored


def effective(settings: Settings, env: Settings) -> list[dict[str, Any]]:
    """For the admin page: each changeable key, its value now and the environment's (secrets hidden)."""
    rows = []
    for item in CHANGEABLE:
        value, default = getattr(settings, item.key), getattr(env, item.key)
        rows.append(
            {
                "key": item.key,
                "label": item.label,
                "secret": item.secret,
                "value": ("••••••" if value else "") if item.secret else value,
                "default": ("••••••" if default else "") if item.secret else default,
                "changed": value != default,
                "type": type(default).__name__,
            }
        )
    return rows
