"""Design uploads with a bounded cost: who, how big, how many at once, and what is kept.

The order matters: the caller is authenticated (the route's dependency) and their quota checked
before one byte of the body is read; the body streams into the store's private temporary file
(size limit and a read timeout in `limits.py`, a full disk is a 507); a large file waits for one of
`FABLAB_VALIDATION_CONCURRENCY` validation slots (or gets a 503 with Retry-After); a file that is not
a design at all (unknown type, empty, unreadable) is told so and not kept; the record is committed
before the 201. No database connection is held while the body streams or the file is checked.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from fablabctl.content_store import CHUNK, StagedFile, StoredFile, store_stream
from fablabctl.context import ServiceContext
from fablabctl.db.models import Design, DesignFile, User
from fablabctl.designs import repair, service
from fablabctl.designs.schemas import DesignOut
from fablabctl.errors import FablabError, Invalid
from fablabctl.fleet.service import list_machines, to_spec
from fablabctl.i18n import Lang, Text
from fablabctl.specs import MachineSpec
from fablabctl.validation.report import Report
from fablabctl.web.multipart import receive_file
from fablabctl.web.transactions import run_in_session

MIB = 1024 * 1024
BIG_FILE_BYTES = 2 * MIB  # smaller files are checked at once: they cost little
BUSY = Text(
    "Trop de fichiers sont en cours de vérification : réessayez dans une minute.",
    "Too many files are being checked: try again in a minute.",
)


class ValidationSlots:
    """At most `size` large files validated at once; others wait up to `wait_s`, then a 503."""

    def __init__(self, size: int, wait_s: float) -> None:
        self.size = size
        self.wait_s = wait_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._semaphore: asyncio.Semaphore | None = None

    def _current(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._loop is not loop:  # one per event loop (tests make several)
            self._loop, self._semaphore = loop, asyncio.Semaphore(self.size)
        return self._semaphore

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        semaphore = self._current()
        try:
            await asyncio.wait_for(semaphore.acquire(), timeout=self.wait_s)
        except TimeoutError:
            raise FablabError(
                "VALIDATION_BUSY", BUSY, status=503, retry_after=max(5, int(self.wait_s))
            ) from None
        try:
            yield
        finally:
            semaphore.release()


def _lookup(session: Session, owner_id: int) -> tuple[int, list[MachineSpec]]:
    return service.stored_bytes(session, owner_id), [to_spec(m) for m in list_machines(session=session)]


def not_a_design(report: Report, lang: Lang) -> FablabError | None:
    """A 422 carrying the finding's own code (FILE_TYPE_UNSUPPORTED, STL_TRUNCATED...) when the file
    cannot be read as a design at all: such a file is told why, and not kept."""
    from fablabctl.validation.validate import UNREADABLE  # validation is imported on first use

    finding = next((f for f in report.findings if f.code in UNREADABLE), None)
    if finding is None:
        return None
    return Invalid(finding.code, finding.message, report=report.to_dict(lang))


async def receive_design(*, request: Request, actor: User, context: ServiceContext, lang: Lang) -> DesignOut:
    settings = context.settings
    factory = context.sessions
    quota = int(settings.user_quota_mb * MIB)
    used, machines = await run_in_threadpool(
        run_in_session, factory, lambda s: _lookup(s, actor.id), write=False
    )
    if used >= quota:
        raise service.quota_exceeded(quota, used)

    def stage() -> StagedFile:
        return StagedFile(settings.designs_dir, limit_bytes=settings.max_upload_bytes)

    filename, staged = await receive_file(request.headers.get("content-type"), request.stream(), stage)
    kept = False
    try:
        name = service.clean_filename(filename)
        await run_in_threadpool(staged.finish)
        if used + staged.size > quota:
            raise service.quota_exceeded(quota, used)
        sha = staged.sha256
        known = await run_in_threadpool(
            run_in_session, factory, lambda s: s.get(DesignFile, sha) is not None, write=False
        )
        report = None
        if not known:
            report = await validate_path(request, staged.path, machines, context)
            refused = not_a_design(report, lang)
            if refused is not None:
                raise refused
        stored = await run_in_threadpool(staged.keep)
        kept = True

        def record(session: Session) -> DesignOut:
            design = service.record_upload(
                session=session,
                actor=actor,
                filename=name,
                sha256=stored.sha256,
                size_bytes=stored.size_bytes,
                report=report,
            )
            return service.design_out(session, design, lang)

        return await run_in_threadpool(run_in_session, factory, record, write=True)
    finally:
        if not kept:
            staged.discard()


async def validate_path(
    request: Request, path: Path, machines: list[MachineSpec], context: ServiceContext
) -> Report:
    """Validate off the event loop, holding no database connection; a large file needs a slot."""

    def check() -> Report:
        return service.run_validation(path, machines=machines, limits=context.limits)

    if path.stat().st_size < BIG_FILE_BYTES:
        return await run_in_threadpool(check)
    slots: ValidationSlots = request.app.state.validation_slots
    async with slots.slot():
        return await run_in_threadpool(check)


async def repair_design(
    *, request: Request, actor: User, context: ServiceContext, lang: Lang, design_id: int
) -> DesignOut:
    """The automatic STL repair as a new design, at the cost of an upload: the owner's quota, a
    validation slot for a large file, no database connection held while it runs."""
    settings = context.settings
    factory = context.sessions
    quota = int(settings.user_quota_mb * MIB)

    def load(session: Session) -> tuple[Design, Path, int, list[MachineSpec]]:
        design = service.get_design(
            session=session, actor=actor, design_id=design_id
        )  # a staff read: audited
        path = service.design_path(settings.designs_dir, design)
        machines = [to_spec(m) for m in list_machines(session=session)]
        return design, path, service.stored_bytes(session, design.owner_id), machines

    original, source, used, machines = await run_in_threadpool(run_in_session, factory, load, write=True)
    if used >= quota:
        raise service.quota_exceeded(quota, used)

    def check(work: Path) -> repair.Repaired:
        return repair.repair_file(source, work, machines=machines, limits=context.limits)

    settings.designs_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.designs_dir, prefix=".repair-") as work:
        if source.stat().st_size < BIG_FILE_BYTES:
            repaired = await run_in_threadpool(check, Path(work))
        else:
            slots: ValidationSlots = request.app.state.validation_slots
            async with slots.slot():
                repaired = await run_in_threadpool(check, Path(work))
        if used + repaired.path.stat().st_size > quota:
            raise service.quota_exceeded(quota, used)

        def keep() -> StoredFile:
            with repaired.path.open("rb") as stream:
                chunks = iter(lambda: stream.read(CHUNK), b"")
                return store_stream(settings.designs_dir, chunks, limit_bytes=settings.max_upload_bytes)

        stored = await run_in_threadpool(keep)

    def record(session: Session) -> DesignOut:
        design = repair.record_repair(
            session,
            actor=actor,
            original=original,
            stored=stored,
            report=repaired.report,
            steps=repaired.steps,
        )
        return service.design_out(session, design, lang)

    return await run_in_threadpool(run_in_session, factory, record, write=True)
