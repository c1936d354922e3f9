"""The "done when" test: two weeks of a cohort (see scenario.py for the figures worked out by hand),
checked through the trainer's commands, on SQLite and on PostgreSQL, documents included."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fablabctl.context import ServiceContext
from tests.people.conftest import pdf_text
from tests.people.scenario import EXPECTED_HOURS, PEOPLE, play

Headers = Callable[[str], dict[str, str]]


@pytest.mark.slow
def test_two_weeks_of_a_cohort(
    client: TestClient,
    headers: Headers,
    user_ids: dict[str, int],
    context: ServiceContext,
    cli: Callable[..., str],
    tmp_path: Path,
) -> None:
    played = play(client, headers, context.sessions)
    cid = str(played.cohort_id)

    # the trainer's day: the absences of the fortnight, decided
    absences = json.loads(cli("absences", "--cohort", cid, "--json"))
    assert sorted((a["display_name"], a["day"], a["starts_at"][:5]) for a in absences) == [
        ("Jordan", "2025-03-13", "09:00"),
        ("Karim", "2025-03-05", "13:30"),
    ]
    by_name = {a["display_name"]: a["id"] for a in absences}
    assert "excusée" in cli("absence", "excuse", str(by_name["Karim"]), "--reason", "rendez-vous médical")
    assert "avis au référent" in cli("absence", "unexcused", str(by_name["Jordan"]))
    notices = json.loads(cli("notices", "--cohort", cid, "--json"))
    assert [(n["display_name"], n["day"]) for n in notices] == [("Jordan", "2025-03-13")]
    assert notices[0]["emailed_at"] is None  # no SMTP server configured: listed, not sent

    # Inès's check-out was typed 15:00 instead of 17:00: 68 h before the correction, 70 h after
    before = {h["username"]: h["hours_done"] for h in json.loads(cli("hours", "--cohort", cid, "--json"))}
    assert before["ines"] == 68.0
    out = cli(
        "attendance", "correct", played.ines_entry[:8],
        "--in", "2025-03-10T13:30", "--out", "2025-03-10T17:00", "--reason", "sortie notée trop tôt",
    )  # fmt: skip
    assert "version 3" in out
    listing = json.loads(
        cli("attendance", "list", "--cohort", cid, "--day", "2025-03-10", "--user", "ines", "--json")
    )
    assert [(e["check_in"][11:16], e["check_out"][11:16], e["version"]) for e in listing] == [
        ("09:00", "12:30", 2),
        ("13:30", "17:00", 3),
    ]

    # every figure, against the hand-worked ones
    hours = json.loads(cli("hours", "--cohort", cid, "--json"))
    assert {h["username"]: h["hours_done"] for h in hours} == EXPECTED_HOURS
    assert {h["username"]: h["hours_due"] for h in hours} == {u: float(d) for u, (_n, d) in PEOPLE.items()}
    assert all(set(h) >= {"username", "display_name", "hours_done", "hours_due"} for h in hours)
    row = {h["username"]: h for h in hours}
    assert row["oceane"]["hours_remaining"] == 35.0 and row["oceane"]["percent"] == 66.7
    assert row["oceane"]["expected_end"] == "2025-03-21" and row["oceane"]["deadline"] == "2025-06-30"
    assert row["lea"]["expected_end"] == "2025-03-14"
    for late in ("karim", "jordan", "dylan"):
        assert row[late]["expected_end"] == "2025-03-17"
    assert [(w["code"], w["day"]) for w in row["maelle"]["warnings"]] == [("DAILY_MAX", "2025-03-07")]
    assert [(w["code"], w["day"]) for w in row["dylan"]["warnings"]] == [("OPEN_CHECKIN", "2025-03-14")]
    assert all(not row[u]["warnings"] for u in ("lea", "karim", "sofiane", "jordan", "ines", "oceane"))
    assert (row["karim"]["absences_excused"], row["jordan"]["absences_unexcused"]) == (1, 1)
    assert sum(h["hours_done"] for h in hours) == 551.25
    table = cli("hours", "--cohort", cid)
    assert "Maëlle" in table and "71 h 45" in table

    check_documents(cli, cid, tmp_path)

    # the journal de bord
    cli("journal", "add", "--cohort", cid, "--day", "2025-03-07", "Groupe très investi, rythme à garder.")
    notes = json.loads(cli("journal", "list", "--cohort", cid, "--json"))
    assert [(n["day"], n["text"]) for n in notes] == [("2025-03-07", "Groupe très investi, rythme à garder.")]


def check_documents(cli: Callable[..., str], cid: str, tmp: Path) -> None:
    attestation = tmp / "lea.pdf"
    cli("docs", "attestation", "--cohort", cid, "--tigiste", "lea", "-o", str(attestation))
    text = pdf_text(attestation)
    assert "Attestation de réussite" in text and "Léa a effectué 70 h 00 sur les 70 h 00" in text
    assert "Travail d'intérêt général (TIG)" in text and "du 3 mars 2025 au 14 mars 2025" in text
    assert "Fab Lab des Capucins" in text and "12 rue des Ateliers" in text and "29200 Brest" in text
    assert "Face avant (entrée) (réalisé)" in text and "Ruche pédagogique" in text
    assert "3.2 Développer des documents multimédia" in text and "4.3 Protéger la santé" in text
    assert "entièrement effectuées" in text

    partial = tmp / "oceane.pdf"
    cli("docs", "attestation", "--cohort", cid, "--tigiste", "oceane", "-o", str(partial))
    text = pdf_text(partial)
    assert "Attestation d'heures effectuées" in text and "70 h 00 sur les 105 h 00" in text
    assert "Travail non rémunéré (TNR)" in text and "mesure est en cours" in text

    karim = pdf_text(_doc(cli, tmp, "attestation", cid, "karim"))
    assert "Face avant (entrée) (assemblé)" in karim and "Réducteur d'entrée (réalisé)" in karim
    assert "2.3 Collaborer" in karim

    sheet = pdf_text(_doc(cli, tmp, "presence", cid, "jordan"))
    assert "Feuille de présence" in sheet and "Jordan" in sheet
    assert "mardi 11/03/2025 09:10–12:30 ; 13:30–17:00 6 h 45 fabrication" in sheet
    assert "jeudi 13/03/2025 13:30–17:00 3 h 30 fabrication absence non excusée" in sheet
    assert "Total de la période 66 h 15" in sheet and "Signature de la personne" in sheet

    csv_path = tmp / "presence.csv"
    cli("docs", "presence", "--cohort", cid, "-o", str(csv_path))
    rows = list(csv.reader(io.StringIO(csv_path.read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["session", "personne", "date", "horaires", "heures"]
    assert len(rows) == 1 + 8 * 11  # header, then ten days and a total for each of the eight
    totals = {r[1]: r[5] for r in rows[1:] if r[2] == "total"}
    assert totals == {
        "Dylan": "66,50", "Inès": "70,00", "Jordan": "66,25", "Karim": "66,50",
        "Léa": "70,00", "Maëlle": "71,75", "Océane": "70,00", "Sofiane": "70,25",
    }  # fmt: skip
    week = tmp / "semaine.pdf"
    cli("docs", "presence", "--cohort", cid, "--from", "2025-03-10", "--to", "2025-03-14", "-o", str(week))
    text = pdf_text(week)
    assert "lundi 03/03/2025" not in text and "vendredi 14/03/2025 09:00–12:30 ; 13:30–(sans sortie)" in text

    bilan = tmp / "bilan.pdf"
    cli("docs", "bilan", "--cohort", cid, "-o", str(bilan))
    text = pdf_text(bilan)
    assert "Bilan de session" in text and "Total 551 h 15 595 h 00" in text
    assert "4 personne(s) sur 8 ont effectué toutes leurs heures" in text
    assert "Travaux : 3 ; terminés : 2 ; échoués : 1 ; taux de réussite : 67 %" in text
    assert "Information et données 1,0 2,3 +1,3" in text  # (1+0+2)/3 before, (3+2+2)/3 after
    assert "information 56 h 00" in text and "formation 222 h 28" in text and "fabrication 272 h 50" in text

    contrat = pdf_text(_doc(cli, tmp, "contrat", cid, "karim"))
    assert "Contrat d'engagement" in contrat and "Karim" in contrat and "70 h 00" in contrat
    assert "Date de signature : 3 mars 2025" in contrat

    restitution = tmp / "restitution.pdf"
    cli("docs", "restitution", "--cohort", cid, "-o", str(restitution))
    text = pdf_text(restitution)
    assert "Fiche de restitution" in text and "Face avant (entrée)" in text and "Océane" in text

    notices = tmp / "avis.csv"
    cli("docs", "notices", "--cohort", cid, "-o", str(notices))
    lines = notices.read_bytes().decode("utf-8-sig").splitlines()
    assert lines[1].startswith("2025-03-13;09:00-12:30;Jordan;CPIP jordan <cpip.jordan@spip.example>")

    export = tmp / "cohorte.zip"
    cli("cohort", "export", cid, "-o", str(export))
    with zipfile.ZipFile(export) as archive:
        names = set(archive.namelist())
        assert {"bilan-cohorte-" + cid + ".pdf", "heures.csv", "presence-cohorte-" + cid + ".csv"} <= names
        assert sum(1 for n in names if n.startswith("personnes/") and "/attestation-cohorte-" in n) == 8
        assert "Maëlle;71.75" in archive.read("heures.csv").decode("utf-8-sig")

    # every page renders as an image (looked at by hand when the templates change)
    png = subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(bilan), str(tmp / "bilan")],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert png.returncode == 0 and (tmp / "bilan-1.png").stat().st_size > 5000


def _doc(cli: Callable[..., str], tmp: Path, kind: str, cid: str, who: str) -> Path:
    path = tmp / f"{kind}-{who}.pdf"
    cli("docs", kind, "--cohort", cid, "--tigiste", who, "-o", str(path))
    return path
