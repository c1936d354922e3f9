"""Long lists straight from rows to JSON: the pages poll them every second (issue 15).

Loading 200 jobs as ORM objects, then as Pydantic models, then as JSON cost ~20 ms of CPU per
request, most of it converting each value in Python three times (SQLite's datetime text parsed,
made aware, JSON columns decoded, objects built and validated). Here the same `select` (its filters,
order and limit untouched) is asked only for the response model's columns, with the driver's own
values (no SQLAlchemy result processing), then each value is turned once into its JSON form and the
list is encoded by pydantic-core's JSON writer: ~3 ms. The text is what the model would produce (datetimes in
UTC with `Z`, JSON columns as objects); `tests/api/test_fast_rows.py` checks it on both databases.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json
from sqlalchemy import JSON, DateTime, FromClause, Select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

_SQLITE_TEXT = 26  # "YYYY-MM-DD HH:MM:SS.ffffff", how SQLAlchemy stores a UTC datetime in SQLite


def iso_utc(value: Any) -> str | None:
    """A stored UTC datetime (SQLite text, or a driver's datetime) as ISO 8601 with `Z`."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == _SQLITE_TEXT and value[10] == " ":
            return f"{value[:10]}T{value[11:]}Z"
        value = datetime.fromisoformat(value)
    moment: datetime = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def json_values(column: tuple[Any, ...]) -> list[Any]:
    """A JSON column's values: text on SQLite (decoded in one call), already decoded by psycopg."""
    if all(value is None or isinstance(value, str) for value in column):
        return list(json.loads("[" + ",".join("null" if v is None else v for v in column) + "]"))
    return [json.loads(v) if isinstance(v, str) else v for v in column]


def datetimes(column: tuple[Any, ...]) -> list[Any]:
    return [iso_utc(value) for value in column]


class RowsJson:
    """Encode the rows of `table` that a query selects as a JSON list of `model` (its fields that
    are columns, in its order)."""

    def __init__(self, table: FromClause, model: type[BaseModel]) -> None:
        self.names = [name for name in model.model_fields if name in table.c]
        self.columns: list[ColumnElement[Any]] = []
        self.converts: list[tuple[int, Callable[[tuple[Any, ...]], list[Any]]]] = []
        for index, name in enumerate(self.names):
            column = table.c[name]
            if isinstance(column.type, DateTime) or isinstance(
                getattr(column.type, "impl_instance", None), DateTime
            ):
                self.converts.append((index, datetimes))
            elif isinstance(column.type, JSON):
                self.converts.append((index, json_values))
            else:
                self.columns.append(column)
                continue
            self.columns.append(type_coerce(column, NullType()).label(name))  # the driver's value

    def rows(self, session: Session, query: Select[Any]) -> list[dict[str, Any]]:
        """Run `query` (any select of the table: its filters, order and limit kept) for these columns."""
        raw = session.execute(query.with_only_columns(*self.columns)).all()
        if not raw:
            return []
        columns: list[Any] = list(zip(*raw, strict=True))
        for index, convert in self.converts:
            columns[index] = convert(columns[index])
        names = self.names
        return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]

    @staticmethod
    def dump(rows: list[dict[str, Any]]) -> bytes:
        """JSON as the response model would write it (NaN and infinities as null)."""
        return to_json(rows, inf_nan_mode="null")
