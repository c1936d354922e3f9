"""Who may have which document, the audit of staff reads, and the cohort's export (ZIP).

A tigiste gets their own presence sheet, attestation and contract; staff who teach get everyone's
and the cohort's bilan, restitution and notices. Every staff read is in the audit log (ids only).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fablabctl import audit
from fablabctl.db.models import Enrolment, User
from fablabctl.documents import data as docdata
from fablabctl.documents.render import presence_csv, render_pdf, table_csv
from fablabctl.errors import Invalid, forbidden, not_found
from fablabctl.i18n import Text
from fablabctl.people.absences import list_notices
from fablabctl.people.cohort_hours import cohort_hours
from fablabctl.people.cohorts import get_cohort
from fablabctl.people.roles import TEACHING, Role, require, role_of

Kind = Literal["presence", "attestation", "contrat", "bilan", "restitution", "notices"]
PERSONAL: frozenset[str] = frozenset({"attestation", "contrat"})
PDF = "application/pdf"
CSV = "text/csv; charset=utf-8"
BILAN_CSV_HEADER = [
    "personne", "heures_faites", "heures_dues", "pourcent", "abs_excusees", "abs_non_excusees", "objets"
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Document:
    content: bytes
    media_type: str
    filename: str


def _check(session: Session, actor: User, cohort_id: int, kind: str, user_id: int | None) -> None:
    get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    if role_of(actor) is Role.TIGISTE:
        if kind not in PERSONAL | {"presence"} or user_id != actor.id:
            raise forbidden(
                Text(
                    "Vous ne pouvez obtenir que vos propres documents.",
                    "You may only get your own documents.",
                )
            )
    else:
        require(actor, TEACHING)
    if kind in PERSONAL and user_id is None:
        raise Invalid(
            "DOCUMENT_NEEDS_PERSON",
            Text(
                "Ce document concerne une personne : précisez-la.",
                "This document is about one person: name them.",
            ),
        )
    if user_id is not None and (
        session.scalar(
            select(Enrolment.id).where(Enrolment.cohort_id == cohort_id, Enrolment.user_id == user_id)
        )
        is None
    ):
        raise not_found("enrolment", f"{cohort_id}/{user_id}")


def document(
    *,
    session: Session,
    actor: User,
    ctx: docdata.Ctx,
    cohort_id: int,
    kind: Kind,
    user_id: int | None = None,
    first: date | None = None,
    last: date | None = None,
    fmt: Literal["pdf", "csv"] = "pdf",
) -> Document:
    if role_of(actor) is Role.TIGISTE and user_id is None:
        user_id = actor.id
    _check(session, actor, cohort_id, kind, user_id)
    cohort = get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    if role_of(actor) is not Role.TIGISTE:
        audit.record(
            session,
            actor=actor,
            action=f"document.{kind}",
            target_type="cohort",
            target_id=cohort_id,
            user_id=user_id,
        )
    name = f"{kind}-cohorte-{cohort_id}" + (f"-{user_id}" if user_id is not None else "")
    if kind == "presence":
        content = docdata.presence(ctx, cohort, user_id=user_id, first=first, last=last)
        if fmt == "csv":
            return Document(presence_csv(content), CSV, f"{name}.csv")
        return Document(render_pdf("presence", content), PDF, f"{name}.pdf")
    if kind == "notices":
        rows = [n.model_dump() for n in list_notices(session=session, actor=actor, cohort_id=cohort_id)]
        if fmt == "csv":
            body = [
                [n["day"].isoformat(), f"{n['starts_at']:%H:%M}-{n['ends_at']:%H:%M}", n["display_name"],
                 n["referent_contact"], n["emailed_at"].isoformat() if n["emailed_at"] else ""]
                for n in rows
            ]  # fmt: skip
            return Document(
                table_csv(["date", "creneau", "personne", "referent", "courriel_envoye"], body),
                CSV,
                f"{name}.csv",
            )
        return Document(render_pdf("notices", docdata.notices(ctx, cohort, rows)), PDF, f"{name}.pdf")
    if fmt == "csv" and kind != "bilan":
        raise Invalid(
            "DOCUMENT_NO_CSV", Text("Ce document n'existe qu'en PDF.", "This document is PDF only.")
        )
    if kind == "attestation":
        assert user_id is not None
        return Document(
            render_pdf("attestation", docdata.attestation(ctx, cohort, user_id)), PDF, f"{name}.pdf"
        )
    if kind == "contrat":
        assert user_id is not None
        return Document(render_pdf("contrat", docdata.contrat(ctx, cohort, user_id)), PDF, f"{name}.pdf")
    if kind == "bilan":
        content = docdata.bilan(ctx, cohort)
        if fmt == "csv":
            body = [
                [p["display_name"], p["hours_done"], p["hours_due"], p["percent"], p["absences_excused"],
                 p["absences_unexcused"], p["objects"]]
                for p in content["people"]
            ]  # fmt: skip
            header = BILAN_CSV_HEADER
            return Document(table_csv(header, body), CSV, f"{name}.csv")
        return Document(render_pdf("bilan", content), PDF, f"{name}.pdf")
    return Document(render_pdf("restitution", docdata.restitution(ctx, cohort)), PDF, f"{name}.pdf")


def export_zip(*, session: Session, actor: User, ctx: docdata.Ctx, cohort_id: int) -> Document:
    """Every document and table of a cohort, in one ZIP (before a purge, for the archives).

    The cohort's feuille de présence has one section (page) per person: it is not repeated per person.
    """
    require(actor, TEACHING)
    cohort = get_cohort(session=session, actor=actor, cohort_id=cohort_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def put(doc: Document, folder: str = "") -> None:
            archive.writestr(folder + doc.filename, doc.content)

        kw = {"session": session, "actor": actor, "ctx": ctx, "cohort_id": cohort_id}
        put(document(**kw, kind="presence"))  # type: ignore[arg-type]
        put(document(**kw, kind="presence", fmt="csv"))  # type: ignore[arg-type]
        put(document(**kw, kind="bilan"))  # type: ignore[arg-type]
        put(document(**kw, kind="bilan", fmt="csv"))  # type: ignore[arg-type]
        put(document(**kw, kind="restitution"))  # type: ignore[arg-type]
        put(document(**kw, kind="notices"))  # type: ignore[arg-type]
        put(document(**kw, kind="notices", fmt="csv"))  # type: ignore[arg-type]
        for enrolment in session.scalars(select(Enrolment).where(Enrolment.cohort_id == cohort_id)):
            uid = enrolment.user_id
            folder = f"personnes/{uid}/"
            put(document(**kw, kind="attestation", user_id=uid), folder)  # type: ignore[arg-type]
            put(document(**kw, kind="contrat", user_id=uid), folder)  # type: ignore[arg-type]
        hours = cohort_hours(
            session=session, actor=actor, cohort_id=cohort_id, rules=ctx.rules, clock=ctx.clock
        )
        rows = [
            [h.username, h.display_name, f"{h.hours_done:.2f}", f"{h.hours_due:.2f}", h.percent,
             h.expected_end or "", h.deadline or ""]
            for h in hours
        ]  # fmt: skip
        archive.writestr(
            "heures.csv",
            table_csv(
                [
                    "identifiant",
                    "personne",
                    "heures_faites",
                    "heures_dues",
                    "pourcent",
                    "fin_prevue",
                    "echeance",
                ],
                rows,
            ),
        )
    audit.record(session, actor=actor, action="cohort.export", target_type="cohort", target_id=cohort_id)
    return Document(buffer.getvalue(), "application/zip", f"cohorte-{cohort.id}.zip")
