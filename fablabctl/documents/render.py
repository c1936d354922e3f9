"""Documents to PDF (Jinja2 HTML templates + WeasyPrint) and to CSV, from plain data.

Why WeasyPrint: the documents are HTML/CSS templates (Jinja2), the same template layer as the web
pages (DESIGN.md), so a trainer's page and the printed sheet show the same figures in the same
words; CSS paged media gives A4 pages, running footers, page numbers and page breaks per person.
It is a maintained BSD library that renders offline with the system's Pango and fonts (Debian
`fonts-dejavu-core`): nothing is fetched, the only image (the logo) is inlined as a data URI and
the fetcher refuses every other scheme.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from functools import cache
from typing import Any

import jinja2

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def fr_date(value: date | None) -> str:
    if value is None:
        return ""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def fr_day(value: date) -> str:
    return f"{DAYS[value.weekday()]} {value:%d/%m/%Y}"


def hours_label(value: float) -> str:
    minutes = round(value * 60)
    return f"{minutes // 60} h {minutes % 60:02d}"


def fr_number(value: float | None, places: int = 1, *, sign: bool = False, trim: bool = False) -> str:
    """A number as written in French: decimal comma (65,0 -> "65" when `trim`)."""
    if value is None:
        return "—"
    text = f"{value:{'+' if sign else ''}.{places}f}"
    if trim and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


def hhmm(value: object) -> str:
    """09:00:00 or a time -> 09:00."""
    return str(value)[:5]


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fablabctl.documents", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        fr_date=fr_date, fr_day=fr_day, hours_label=hours_label, fr_number=fr_number, hhmm=hhmm
    )
    return env


def render_html(template: str, data: dict[str, Any]) -> str:
    return environment().get_template(f"{template}.html").render(**data)


def render_pdf(template: str, data: dict[str, Any]) -> bytes:
    """The template as a PDF, laid out in a bounded worker process (`pdf_process.py`)."""
    from fablabctl.documents.pdf_process import html_to_pdf

    return html_to_pdf(render_html(template, data))


def presence_csv(data: dict[str, Any]) -> bytes:
    """One row a day per person; `;`-separated with a BOM, as French spreadsheets expect."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        ["session", "personne", "date", "horaires", "heures", "heures_decimales", "phase", "observations"]
    )
    for person in data["people"]:
        for row in person["rows"]:
            writer.writerow(
                [
                    data["cohort"]["name"],
                    person["display_name"],
                    row["day"].isoformat(),
                    row["periods"],
                    row["hours"],
                    f"{row['hours_decimal']:.2f}".replace(".", ","),
                    row["phase"],
                    row["note"],
                ]
            )
        writer.writerow(
            [data["cohort"]["name"], person["display_name"], "total", "", person["total"],
             f"{person['total_decimal']:.2f}".replace(".", ","), "", ""]
        )  # fmt: skip
    return ("\ufeff" + out.getvalue()).encode()


def table_csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()
