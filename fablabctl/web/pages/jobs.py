"""One job's page, and the buttons that act on jobs (the same service calls as the API's job routes)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Form, Request, Response

from fablabctl.db.models import Machine, User
from fablabctl.designs import service as designs
from fablabctl.i18n import Text
from fablabctl.people.roles import role_of
from fablabctl.queue import actions, jobs
from fablabctl.queue.schemas import JobEventOut, JobOut
from fablabctl.web.control import refuse_confirm_while_framing
from fablabctl.web.pages.core import PageRoute, db, lang_of, redirect, render, require_user, safe_next
from fablabctl.web.pages.labels import labels

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DONE: dict[str, Text] = {
    "approve": Text("Travail validé : il part dans la file.", "Job approved: it goes to the queue."),
    "reject": Text("Travail refusé.", "Job rejected."),
    "cancel": Text("Annulation demandée.", "Cancellation requested."),
    "confirm": Text("Confirmé : la machine démarre.", "Confirmed: the machine starts."),
    "pause": Text("Pause demandée.", "Pause requested."),
    "resume": Text("Reprise demandée.", "Resume requested."),
    "retry": Text("Nouvel essai mis dans la file.", "New attempt queued."),
}
PRIORITY_SET = Text("Priorité changée : {priority}.", "Priority set: {priority}.")
PRIORITY_RANGE = Text("Priorité entre -10 et 10.", "Priority between -10 and 10.")
REJECT_REASON = Text("Donnez une raison (au moins 3 caractères).", "Give a reason (at least 3 characters).")


@router.get("/jobs/{job_id}")
def job_page(job_id: int, request: Request) -> Response:
    with db(request) as session:
        user = require_user(request, session)
        lang = lang_of(request)
        job = jobs.get_job(session=session, actor=user, job_id=job_id)
        design = designs.design_out(
            session, designs.get_design(session=session, actor=user, design_id=job.design_id), lang
        )
        machine = session.get(Machine, job.machine_id) if job.machine_id else None
        owner = session.get(User, job.owner_id)
        history = [
            JobEventOut.model_validate(e) for e in jobs.job_events(session=session, actor=user, job_id=job_id)
        ]
        return render(
            request,
            "job.html",
            user=user,
            job=JobOut.model_validate(job),
            design=design,
            machine_name=machine.name if machine else None,
            owner_name=owner.display_name if owner else "",
            history=history,
            labels=labels(lang),
            staff=role_of(user).value != "tigiste",
        )


@router.post("/jobs/{job_id}/priority")
def job_priority(job_id: int, request: Request, priority: int = Form(0), next: str = Form("")) -> Response:
    """The trainer's priority control: the same service call as `POST /api/v1/jobs/{id}/priority`."""
    lang = lang_of(request)
    back = safe_next(next or None, f"/jobs/{job_id}")
    if not -10 <= priority <= 10:
        return redirect(back, flash=PRIORITY_RANGE.in_(lang), kind="error")
    with db(request) as session:
        user = require_user(request, session)
        jobs.set_priority(session=session, actor=user, job_id=job_id, priority=priority)
    return redirect(back, flash=PRIORITY_SET.format(priority=f"{priority:+d}").in_(lang))


@router.post("/jobs/{job_id}/{action}")
def job_action(
    job_id: int,
    action: Literal["approve", "reject", "cancel", "confirm", "pause", "resume", "retry"],
    request: Request,
    reason: str = Form(""),
    next: str = Form(""),
) -> Response:
    lang = lang_of(request)
    back = safe_next(next or None, f"/jobs/{job_id}")
    if action == "reject" and len(reason.strip()) < 3:
        return redirect(back, flash=REJECT_REASON.in_(lang), kind="error")
    with db(request) as session:
        user = require_user(request, session)
        if action == "approve":
            jobs.approve_job(session=session, actor=user, job_id=job_id)
        elif action == "reject":
            jobs.reject_job(session=session, actor=user, job_id=job_id, reason=reason.strip()[:1000])
        elif action == "cancel":
            jobs.cancel_job(session=session, actor=user, job_id=job_id, reason=reason.strip()[:1000] or None)
        elif action == "retry":
            actions.retry_job(session=session, actor=user, job_id=job_id)
        else:
            if action == "confirm":
                refuse_confirm_while_framing(request.app.state, job_id)
            actions.request_action(session=session, actor=user, job_id=job_id, action=action)
    return redirect(back, flash=DONE[action].in_(lang))
