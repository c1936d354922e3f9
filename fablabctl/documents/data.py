"""Plain data for the documents, from the same service functions as the API (never ORM objects).

No role check here: the routes check who may see what, then ask for the data.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl.clock import Clock, utc_now
from fablabctl.config import Settings
from fablabctl.db.models import (
    Absence,
    Cohort,
    Design,
    Enrolment,
    EnrolmentTerms,
    Job,
    PixAssessment,
    Site,
    TimetableSlot,
    User,
)
from fablabctl.documents.skills import practised
from fablabctl.people.attendance import Rules, as_period, latest_versions
from fablabctl.people.cohort_hours import hours_of
from fablabctl.people.hours import format_hours, phase_minutes, summarize
from fablabctl.people.programme import PIX_AREAS, ROLE_FR, contributions
from fablabctl.people.timetable import slots

MEASURES = {
    "TIG": "Travail d'intérêt général (TIG)",
    "TNR": "Travail non rémunéré (TNR)",
    "autre": "Mesure de justice",
}


@dataclass
class Ctx:
    session: Session
    settings: Settings
    rules: Rules
    clock: Clock = utc_now
    _logo: str | None = field(default=None, init=False)

    def header(self, cohort: Cohort) -> dict[str, Any]:
        site = self.session.get(Site, cohort.site_id)
        return {
            "structure": {
                "name": self.settings.structure_name,
                "address_lines": [
                    p.strip() for p in re.split(r"[\n;]", self.settings.structure_address) if p.strip()
                ],
                "logo": self.logo(),
            },
            "cohort": {
                "name": cohort.name,
                "starts_on": cohort.starts_on,
                "ends_on": cohort.ends_on,
                "site": site.name if site and site.name != self.settings.site else "",  # a van's name
                "programme": programme_title(self.settings, cohort.project),
            },
            "generated_on": self.clock().astimezone(self.rules.tz).date(),
            "rounding_minutes": self.rules.rounding_minutes,
        }

    def logo(self) -> str | None:
        """The structure's logo inlined as a data URI: the renderer never opens a path or a URL."""
        path = self.settings.structure_logo
        if path is None or self._logo is not None:
            return self._logo
        try:
            data = path.read_bytes()
        except OSError:
            return None
        kind = mimetypes.guess_type(path.name)[0] or "image/png"
        self._logo = f"data:{kind};base64,{base64.b64encode(data).decode()}"
        return self._logo


def programme_title(settings: Settings, project: str | None) -> str:
    base = "TIG pédagogique numérique : formation aux compétences numériques puis fabrication au Fab Lab"
    if not project:
        return base
    try:
        from fablabctl.queue.catalogue import load_catalogue

        catalogue = load_catalogue(settings.catalogue_dir)
        title = catalogue[project].title_fr if project in catalogue else project
    except Exception:  # a broken catalogue must not stop an attestation: the id is enough
        title = project
    return f"{base} (projet : {title})"


def _enrolments(session: Session, cohort_id: int, user_id: int | None) -> list[Enrolment]:
    query = select(Enrolment).where(Enrolment.cohort_id == cohort_id)
    if user_id is not None:
        query = query.where(Enrolment.user_id == user_id)
    rows = list(session.scalars(query))
    names = {u.id: u.display_name.lower() for u in session.scalars(select(User))}
    return sorted(rows, key=lambda e: names.get(e.user_id, ""))


def _absence_labels(session: Session, cohort_id: int, user_id: int) -> dict[date, list[str]]:
    """Each day's absences with their slots: « absence non excusée (09:00–12:30) »."""
    slots_by: dict[date, dict[str, list[str]]] = {}
    state = {None: "absence à justifier", True: "absence excusée", False: "absence non excusée"}
    for absence, slot in session.execute(
        select(Absence, TimetableSlot)
        .join(TimetableSlot, TimetableSlot.id == Absence.slot_id)
        .where(Absence.cohort_id == cohort_id, Absence.user_id == user_id)
        .order_by(TimetableSlot.day, TimetableSlot.starts_at)
    ):
        span = f"{slot.starts_at:%H:%M}–{slot.ends_at:%H:%M}"
        slots_by.setdefault(absence.day, {}).setdefault(state[absence.excused], []).append(span)
    return {
        day: [f"{label} ({', '.join(spans)})" for label, spans in by_state.items()]
        for day, by_state in slots_by.items()
    }


def presence(
    ctx: Ctx, cohort: Cohort, *, user_id: int | None, first: date | None, last: date | None
) -> dict[str, Any]:
    """Feuille de présence: per tigiste, one row a day (timetabled or attended) in the period."""
    people = []
    timetable_days = {s.day for s in slots(ctx.session, cohort.id)}
    for enrolment in _enrolments(ctx.session, cohort.id, user_id):
        user = ctx.session.get(User, enrolment.user_id)
        assert user is not None
        entries = [
            e for e in latest_versions(ctx.session, cohort_id=cohort.id, user_id=user.id) if not e.cancelled
        ]
        summary = summarize(
            [as_period(e) for e in entries],
            tz=ctx.rules.tz,
            rounding_minutes=ctx.rules.rounding_minutes,
            daily_max_hours=ctx.rules.daily_max_hours,
            now=ctx.clock(),
        )
        by_day = {d.day: d for d in summary.days}
        absences = _absence_labels(ctx.session, cohort.id, user.id)
        rows, total = [], 0
        for day in sorted(set(by_day) | timetable_days):
            if (first and day < first) or (last and day > last):
                continue
            d = by_day.get(day)
            periods = " ; ".join(
                f"{a:%H:%M}–{b:%H:%M}" if b else f"{a:%H:%M}–(sans sortie)"
                for a, b in (d.periods if d else [])
            )
            minutes = d.minutes if d else 0
            total += minutes
            rows.append(
                {
                    "day": day,
                    "periods": periods,
                    "hours": format_hours(minutes) if d else "",
                    "hours_decimal": round(minutes / 60, 2),
                    "phase": ", ".join(d.phases) if d else "",
                    "note": ", ".join(absences.get(day, [])),
                }
            )
        people.append(
            {
                "display_name": user.display_name,
                "username": user.username,
                "hours_due": enrolment.hours_due,
                "rows": rows,
                "total": format_hours(total),
                "total_decimal": round(total / 60, 2),
            }
        )
    return {**ctx.header(cohort), "people": people, "first": first, "last": last}


def _objects(ctx: Ctx, cohort_id: int, user_id: int) -> list[dict[str, str]]:
    out = []
    seen: set[tuple[int, str]] = set()
    for job, role, _uid in contributions(ctx.session, cohort_id, user_id):
        if job.state != "done" or (job.id, role) in seen:
            continue
        seen.add((job.id, role))
        design = ctx.session.get(Design, job.design_id)
        name = job.settings.get("part_fr") or (design.filename if design else f"travail {job.id}")
        out.append({"name": str(name), "role": ROLE_FR.get(role, role), "kind": job.kind, "role_key": role})
    return out


def attestation(ctx: Ctx, cohort: Cohort, user_id: int) -> dict[str, Any]:
    (enrolment,) = _enrolments(ctx.session, cohort.id, user_id)
    user = ctx.session.get(User, user_id)
    assert user is not None
    figures = hours_of(ctx.session, enrolment, ctx.rules, ctx.clock)
    terms = ctx.session.get(EnrolmentTerms, enrolment.id)
    attended = [d.day for d in figures.days if d.hours > 0]
    objects = _objects(ctx, cohort.id, user_id)
    phases = {p for d in figures.days if d.hours > 0 for p in d.phases}
    return {
        **ctx.header(cohort),
        "person": user.display_name,
        "measure": MEASURES.get(terms.measure if terms else "TIG", "Mesure de justice"),
        "hours_done": format_hours(round(figures.hours_done * 60)),
        "hours_due": format_hours(round(figures.hours_due * 60)),
        "hours_done_decimal": figures.hours_done,
        "complete": figures.hours_done >= figures.hours_due,
        "first_day": attended[0] if attended else None,
        "last_day": attended[-1] if attended else None,
        "skills": practised(phases, [(o["kind"], o["role_key"]) for o in objects]),
        "objects": objects,
    }


def contrat(ctx: Ctx, cohort: Cohort, user_id: int) -> dict[str, Any]:
    (enrolment,) = _enrolments(ctx.session, cohort.id, user_id)
    user = ctx.session.get(User, user_id)
    assert user is not None
    terms = ctx.session.get(EnrolmentTerms, enrolment.id)
    return {
        **ctx.header(cohort),
        "person": user.display_name,
        "measure": MEASURES.get(terms.measure if terms else "TIG", "Mesure de justice"),
        "hours_due": format_hours(round(enrolment.hours_due * 60)),
        "deadline": terms.deadline if terms else None,
        "signed_on": terms.contract_signed_on if terms else None,
        "timetable": _timetable_summary(ctx, cohort.id),
    }


def _timetable_summary(ctx: Ctx, cohort_id: int) -> list[dict[str, Any]]:
    days: dict[date, list[str]] = {}
    phases: dict[date, str] = {}
    for s in slots(ctx.session, cohort_id):
        days.setdefault(s.day, []).append(f"{s.starts_at:%H:%M}–{s.ends_at:%H:%M}")
        phases[s.day] = s.phase
    return [{"day": d, "hours": " et ".join(h), "phase": phases[d]} for d, h in sorted(days.items())]


def _pix(ctx: Ctx, cohort_id: int) -> list[dict[str, Any]]:
    rows = list(ctx.session.scalars(select(PixAssessment).where(PixAssessment.cohort_id == cohort_id)))
    out = []
    for key, label in PIX_AREAS.items():
        pre = [r.scores[key] for r in rows if r.stage == "pre" and key in r.scores]
        post = [r.scores[key] for r in rows if r.stage == "post" and key in r.scores]
        avg_pre = round(sum(pre) / len(pre), 1) if pre else None
        avg_post = round(sum(post) / len(post), 1) if post else None
        gain = round(avg_post - avg_pre, 1) if avg_pre is not None and avg_post is not None else None
        out.append({"area": label, "pre": avg_pre, "post": avg_post, "gain": gain, "answers": len(post)})
    return out


def bilan(ctx: Ctx, cohort: Cohort) -> dict[str, Any]:
    """Bilan de session: hours, absences, objects, jobs and success rate, skills progress."""
    people, total_done, total_due = [], 0.0, 0.0
    for enrolment in _enrolments(ctx.session, cohort.id, None):
        h = hours_of(ctx.session, enrolment, ctx.rules, ctx.clock)
        total_done += h.hours_done
        total_due += h.hours_due
        people.append(
            {
                "display_name": h.display_name,
                "hours_done": format_hours(round(h.hours_done * 60)),
                "hours_due": format_hours(round(h.hours_due * 60)),
                "percent": h.percent,
                "absences_excused": h.absences_excused,
                "absences_unexcused": h.absences_unexcused,
                "complete": h.hours_done >= h.hours_due,
                "objects": len(_objects(ctx, cohort.id, h.user_id)),
            }
        )
    jobs = [
        j
        for j in ctx.session.scalars(select(Job).where(Job.cohort_id == cohort.id).order_by(Job.id))
        if j.run_of_id is None
    ]
    finished = [j for j in jobs if j.state in ("done", "failed")]
    done = [j for j in finished if j.state == "done"]
    all_entries = [e for e in latest_versions(ctx.session, cohort_id=cohort.id) if not e.cancelled]
    per_phase = phase_minutes([as_period(e) for e in all_entries], tz=ctx.rules.tz, rounding_minutes=1)
    return {
        **ctx.header(cohort),
        "people": people,
        "total_done": format_hours(round(total_done * 60)),
        "total_due": format_hours(round(total_due * 60)),
        "completed": sum(1 for p in people if p["complete"]),
        "jobs_total": len(jobs),
        "jobs_done": len(done),
        "jobs_failed": len(finished) - len(done),
        "success_rate": round(100 * len(done) / len(finished)) if finished else None,
        "objects": sorted({str(j.settings.get("part_fr") or f"travail {j.id}") for j in done}),
        "phases": [{"phase": p, "hours": format_hours(m)} for p, m in sorted(per_phase.items())],
        "pix": _pix(ctx, cohort.id),
    }


def restitution(ctx: Ctx, cohort: Cohort) -> dict[str, Any]:
    """Fiche de restitution: one page for the closing event (first names or pseudonyms only)."""
    data = bilan(ctx, cohort)
    data["names"] = [p["display_name"] for p in data["people"]]
    return data


def notices(ctx: Ctx, cohort: Cohort, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {**ctx.header(cohort), "notices": rows}
