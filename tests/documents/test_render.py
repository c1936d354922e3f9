"""Rendering on its own: French dates, escaping, offline (no URL is ever fetched), skills mapping."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path
from typing import Any

from fablabctl.documents.render import fr_date, fr_day, hours_label, presence_csv, render_html, render_pdf
from fablabctl.documents.skills import practised


def sheet(name: str, logo: str | None = None) -> dict[str, Any]:
    row = {"day": date(2025, 3, 3), "periods": "09:00–12:30", "hours": "3 h 30", "hours_decimal": 3.5,
           "phase": "formation", "note": ""}  # fmt: skip
    return {
        "structure": {"name": "Fab Lab", "address_lines": ["1 rue X"], "logo": logo},
        "cohort": {
            "name": name,
            "starts_on": date(2025, 3, 3),
            "ends_on": date(2025, 3, 14),
            "site": "local",
            "programme": "P",
        },
        "generated_on": date(2025, 3, 15),
        "rounding_minutes": 15,
        "people": [
            {
                "display_name": "Léa",
                "username": "lea",
                "hours_due": 70,
                "rows": [row],
                "total": "3 h 30",
                "total_decimal": 3.5,
            }
        ],
        "first": None,
        "last": None,
    }


def test_french_formats() -> None:
    assert (
        fr_date(date(2025, 8, 1)) == "1er août 2025"
        and fr_date(date(2025, 8, 2)) == "2 août 2025"
        and fr_day(date(2025, 3, 3)) == "lundi 03/03/2025"
    )
    assert hours_label(66.25) == "66 h 15" and hours_label(70) == "70 h 00"


def test_names_are_escaped() -> None:
    html = render_html("presence", sheet("<b>Ruche</b> & co"))
    assert "&lt;b&gt;Ruche&lt;/b&gt; &amp; co" in html and "<b>Ruche</b>" not in html


def test_no_url_is_fetched(tmp_path: Path) -> None:
    """A remote logo (a wrong setting) is refused by the fetcher: the PDF still renders, offline."""
    pdf = render_pdf("presence", sheet("Mars", logo="http://192.0.2.1/logo.png"))
    path = tmp_path / "p.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, timeout=60).stdout
    assert "Feuille de présence" in text and "Léa" in text


def test_presence_csv_is_for_french_spreadsheets() -> None:
    content = presence_csv(sheet("Mars")).decode("utf-8")
    assert content.startswith("\ufeffsession;personne;date")
    assert "Mars;Léa;2025-03-03;09:00–12:30;3 h 30;3,50;formation;" in content


def test_skills_from_phases_and_contributions() -> None:
    assert [c for c, _ in practised({"information"}, [])] == ["2.4"]
    codes = [c for c, _ in practised({"fabrication"}, [("printer", "owner"), ("laser", "assembled")])]
    assert codes == ["2.3", "3.2", "3.3", "4.3", "5.1"]
