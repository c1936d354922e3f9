"""Look a machine's spec up by name, for command-line tools that run on the server machine."""

from __future__ import annotations

from fablabctl.config import load_settings
from fablabctl.db.engine import make_session_factory, session_scope
from fablabctl.fleet.service import machine_by_name, to_spec
from fablabctl.specs import MachineSpec
from fablabctl.startup import prepare_database


def machine_spec_by_name(name: str) -> MachineSpec | None:
    """The spec of the machine called `name` in the configured database, or None."""
    engine = prepare_database(load_settings())
    try:
        with session_scope(make_session_factory(engine)) as session:
            machine = machine_by_name(session=session, name=name)
            return to_spec(machine) if machine else None
    finally:
        engine.dispose()
