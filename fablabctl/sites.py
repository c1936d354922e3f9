"""Sites: the service process belongs to one site (FABLAB_SITE), created on first use."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl.db.models import Site


def get_or_create_site(session: Session, name: str) -> Site:
    site = session.scalar(select(Site).where(Site.name == name))
    if site is None:
        site = Site(name=name)
        session.add(site)
        session.flush()
    return site
