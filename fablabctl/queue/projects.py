"""Starting a cohort's project: every part of the catalogue entry becomes a job, shared among the
cohort's tigistes in turn, each waiting for a trainer's approval like any submitted job."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.db.models import Cohort, Enrolment, Job, User
from fablabctl.designs.service import upload_design
from fablabctl.errors import Conflict, Invalid, not_found
from fablabctl.file_limits import ValidationLimits
from fablabctl.i18n import Text
from fablabctl.people.roles import TEACHING, require
from fablabctl.queue.catalogue import CatalogueError, Project, load_catalogue, project_parts
from fablabctl.queue.jobs import submit_job
from fablabctl.queue.schemas import JobSubmit
from fablabctl.specs import MachineSpec


def catalogue(jobs_dir: Path) -> dict[str, Project]:
    try:
        return load_catalogue(jobs_dir)
    except CatalogueError as exc:
        raise Invalid("CATALOGUE_INVALID", exc.message) from None


def start_project(
    *,
    session: Session,
    actor: User,
    cohort_id: int,
    project_id: str | None,
    jobs_dir: Path,
    designs_dir: Path,
    limits: ValidationLimits,
    machines: list[MachineSpec],
    again: bool = False,
    data_dir: Path | None = None,
) -> list[Job]:
    """Refused (409 PROJECT_ALREADY_STARTED) when the cohort already has this project's jobs, unless
    `again` asks for one more set of parts."""
    require(actor, TEACHING)
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise not_found("cohort", cohort_id)
    key = project_id or cohort.project
    projects = catalogue(jobs_dir)
    if not key or key not in projects:
        raise not_found("project", key or "-")
    earlier = [
        job
        for job in session.scalars(select(Job).where(Job.cohort_id == cohort_id).order_by(Job.id))
        if (job.settings or {}).get("project") == key
    ]
    if earlier and not again:
        raise Conflict(
            "PROJECT_ALREADY_STARTED",
            Text(
                f"Le projet « {key} » est déjà lancé pour cette cohorte ({len(earlier)} travaux, "
                f"n° {earlier[0].id} à {earlier[-1].id}). Pour fabriquer une série de plus, "
                'demandez-le explicitement (CLI : --again ; API : "again": true).',
                f"Project '{key}' is already started for this cohort ({len(earlier)} jobs, "
                f"#{earlier[0].id} to #{earlier[-1].id}). To make one more set, ask for it "
                'explicitly (CLI: --again; API: "again": true).',
            ),
            project=key,
            jobs=len(earlier),
        )
    set_number = 1 + max((int((j.settings or {}).get("set", 1)) for j in earlier), default=0)
    tigistes = list(
        session.scalars(
            select(User)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(Enrolment.cohort_id == cohort_id, User.active.is_(True))
            .order_by(User.id)
        )
    )
    if not tigistes:
        raise Conflict(
            "COHORT_HAS_NO_TIGISTES",
            Text(
                "Inscrivez d'abord des tigistes dans cette cohorte.", "Enrol tigistes in this cohort first."
            ),
        )
    jobs = []
    for turn, part in enumerate(project_parts(projects[key])):
        owner = tigistes[turn % len(tigistes)]
        with part.design.open("rb") as stream:
            design = upload_design(
                session=session,
                actor=owner,
                filename=part.design.name,
                chunks=iter(lambda: stream.read(1 << 20), b""),
                designs_dir=designs_dir,
                limits=limits,
                machines=machines,
            )
        job = submit_job(
            session=session,
            actor=owner,
            data=JobSubmit(design_id=design.id, material=part.material, kind=part.kind, cohort_id=cohort_id),
            data_dir=data_dir,
        )
        job.submitted_by_id = actor.id
        job.settings = {
            "project": key,
            "set": set_number,
            "part_fr": part.name_fr,
            "part_en": part.name_en,
            "roles": list(part.roles),
            **({"laser": part.laser} if part.laser else {}),
        }
        jobs.append(job)
    cohort.project = key
    audit.record(
        session,
        actor=actor,
        action="cohort.start_project",
        target_type="cohort",
        target_id=cohort_id,
        project=key,
        jobs=len(jobs),
        set=set_number,
    )
    return jobs
