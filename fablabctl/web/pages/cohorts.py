"""Cohort pages on top of the attendance and hours services (people/attendance.py, cohort_hours.py,
absences.py, programme.py) and the documents (documents/service.py, downloaded through the API route).

- trainers: today's attendance as a grid of big buttons, hours against hours due, absences and referent
  notices, the journal, the documents;
- tigistes: "I'm here / I'm leaving" (a self check-in that a trainer confirms), own hours and own papers.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Form, Request, Response
from pydantic import ValidationError

from fablabctl.clock import utc_now
from fablabctl.db.models import User
from fablabctl.i18n import Text
from fablabctl.people import absences, attendance, attendance_read, auth, cohort_hours, programme
from fablabctl.people.attendance import Rules
from fablabctl.people.attendance_schemas import AbsenceDecision, CheckIn, CheckOut
from fablabctl.people.cohorts import cohort_out, get_cohort, visible_cohorts
from fablabctl.people.roles import STAFF, TEACHING, Role, require, role_of
from fablabctl.web.deps import SESSION_COOKIE
from fablabctl.web.pages.core import (
    PageRoute,
    context_of,
    db,
    lang_of,
    redirect,
    render,
    require_user,
)
from fablabctl.web.pages.labels import labels

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PHASES = {
    "information": Text("Information", "Information"),
    "formation": Text("Formation", "Training"),
    "fabrication": Text("Fabrication", "Making"),
}
DONE = {
    "in": Text("Arrivée enregistrée : {name}.", "Check-in recorded: {name}."),
    "out": Text("Départ enregistré : {name}.", "Check-out recorded: {name}."),
    "confirm": Text("Pointage confirmé.", "Entry confirmed."),
    "self_in": Text(
        "Arrivée notée : un formateur va la confirmer.", "Arrival noted: a trainer will confirm it."
    ),
    "self_out": Text("Départ noté. À bientôt !", "Departure noted. See you soon!"),
}


def _rules(request: Request) -> Rules:
    return Rules.from_settings(context_of(request).settings)


def today_status(entries: list[Any], rules: Rules) -> dict[int, dict[str, Any]]:
    """Per person, today's latest entry: here since / left at / waiting for a trainer's confirmation."""
    today = utc_now().astimezone(rules.tz).date()
    status: dict[int, dict[str, Any]] = {}
    for entry in entries:
        if entry.cancelled or entry.check_in.astimezone(rules.tz).date() != today:
            continue
        status[entry.user_id] = {
            "here": entry.check_out is None,
            "since": entry.check_in.astimezone(rules.tz).strftime("%H:%M"),
            "left": entry.check_out.astimezone(rules.tz).strftime("%H:%M") if entry.check_out else None,
            "to_confirm": entry.method == "self",
            "ref": entry.uuid,
            "phase": entry.phase,
        }
    return status


@router.get("/cohorts")
def cohorts_page(request: Request) -> Response:
    with db(request) as session:
        user = require_user(request, session)
        rows = [cohort_out(session, c) for c in visible_cohorts(session=session, actor=user)]
        if role_of(user) is Role.TIGISTE:
            return redirect("/presence")
        if len(rows) == 1:
            return redirect(f"/cohorts/{rows[0].id}")
        return render(request, "cohorts.html", user=user, cohorts=rows)


@router.get("/cohorts/{cohort_id}")
def cohort_page(cohort_id: int, request: Request) -> Response:
    rules = _rules(request)
    lang = lang_of(request)
    with db(request) as session:
        user = require_user(request, session)
        require(user, TEACHING)
        cohort = cohort_out(session, get_cohort(session=session, actor=user, cohort_id=cohort_id))
        hours = cohort_hours.cohort_hours(
            session=session, actor=user, cohort_id=cohort_id, rules=rules, lang=lang
        )
        entries = attendance_read.list_entries(
            session=session, actor=user, cohort_id=cohort_id, day=None, user_id=None, rules=rules
        )
        missed = absences.list_absences(session=session, actor=user, cohort_id=cohort_id, rules=rules)
        notices = absences.list_notices(session=session, actor=user, cohort_id=cohort_id)
        journal = programme.list_journal(session=session, actor=user, cohort_id=cohort_id)
        return render(
            request,
            "cohort.html",
            user=user,
            cohort=cohort,
            hours=hours,
            today=today_status(entries, rules),
            absences=[a for a in missed if a.excused is None]
            + [a for a in missed if a.excused is not None][-20:],
            notices=notices[-20:],
            journal=list(journal)[-30:],
            phases={k: v.in_(lang) for k, v in PHASES.items()},
            labels=labels(lang),
        )


@router.post("/cohorts/{cohort_id}/attendance/{move}")
def record(
    cohort_id: int,
    move: Literal["in", "out"],
    request: Request,
    user_id: int = Form(...),
    phase: str = Form(""),
) -> Response:
    rules = _rules(request)
    lang = lang_of(request)
    with db(request) as session:
        actor = require_user(request, session)
        require(actor, STAFF)
        if move == "in":
            data = CheckIn(user_id=user_id, phase=phase if phase in PHASES else None)
            attendance.check_in(session=session, actor=actor, cohort_id=cohort_id, data=data, rules=rules)
        else:
            attendance.check_out(
                session=session, actor=actor, cohort_id=cohort_id, data=CheckOut(user_id=user_id), rules=rules
            )
        person = session.get(User, user_id)
        name = person.display_name if person else str(user_id)
    return redirect(f"/cohorts/{cohort_id}#grid", flash=DONE[move].format(name=name).in_(lang))


@router.post("/cohorts/{cohort_id}/confirm/{ref}")
def confirm(cohort_id: int, ref: str, request: Request) -> Response:
    with db(request) as session:
        actor = require_user(request, session)
        attendance.confirm(session=session, actor=actor, ref=ref)
    return redirect(f"/cohorts/{cohort_id}#grid", flash=DONE["confirm"].in_(lang_of(request)))


@router.post("/cohorts/{cohort_id}/absences/{absence_id}")
def decide(cohort_id: int, absence_id: int, request: Request, excused: str = Form("")) -> Response:
    with db(request) as session:
        actor = require_user(request, session)
        absences.decide(
            session=session,
            actor=actor,
            absence_id=absence_id,
            data=AbsenceDecision(excused=excused == "1"),
            settings=context_of(request).settings,
        )
    return redirect(f"/cohorts/{cohort_id}#absences")


@router.post("/cohorts/{cohort_id}/journal")
def add_journal(cohort_id: int, request: Request, text: str = Form("")) -> Response:
    lang = lang_of(request)
    try:
        data = programme.JournalIn(text=text)
    except ValidationError:
        empty = Text("Écrivez quelque chose dans le journal.", "Write something in the journal.")
        return redirect(f"/cohorts/{cohort_id}#journal", flash=empty.in_(lang), kind="error")
    with db(request) as session:
        actor = require_user(request, session)
        programme.add_journal(session=session, actor=actor, cohort_id=cohort_id, data=data)
    return redirect(f"/cohorts/{cohort_id}#journal")


@router.get("/presence")
def presence(request: Request, kiosk: bool = False) -> Response:
    """A tigiste's own page: arrive / leave (confirmed by a trainer), hours against hours due, papers."""
    rules = _rules(request)
    lang = lang_of(request)
    with db(request) as session:
        user = require_user(request, session, Role.TIGISTE)
        mine = []
        for cohort in visible_cohorts(session=session, actor=user):
            hours = cohort_hours.cohort_hours(
                session=session, actor=user, cohort_id=cohort.id, rules=rules, lang=lang, user_id=user.id
            )
            entries = attendance_read.list_entries(
                session=session, actor=user, cohort_id=cohort.id, day=None, user_id=user.id, rules=rules
            )
            mine.append(
                {
                    "cohort": cohort_out(session, cohort),
                    "hours": hours[0] if hours else None,
                    "today": today_status(entries, rules).get(user.id),
                }
            )
        return render(request, "presence.html", user=user, mine=mine, kiosk=kiosk)


@router.post("/presence/{cohort_id}/{move}")
def self_record(
    cohort_id: int, move: Literal["in", "out"], request: Request, kiosk: str = Form("")
) -> Response:
    """On the door tablet (`/presence?kiosk=1`) the session closes at once, ready for the next person."""
    rules = _rules(request)
    with db(request) as session:
        actor = require_user(request, session, Role.TIGISTE)
        if move == "in":
            data = CheckIn(user_id=actor.id)
            attendance.check_in(session=session, actor=actor, cohort_id=cohort_id, data=data, rules=rules)
        else:
            out = CheckOut(user_id=actor.id)
            attendance.check_out(session=session, actor=actor, cohort_id=cohort_id, data=out, rules=rules)
        token = request.cookies.get(SESSION_COOKIE)
        if kiosk and token:
            auth.logout(session, token)
    text = DONE[f"self_{move}"].in_(lang_of(request))
    if not kiosk:
        return redirect("/presence", flash=text)
    response = redirect("/login?next=/presence%3Fkiosk%3D1", flash=text)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
