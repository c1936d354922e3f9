"""HTML to PDF in a separate, bounded process.

Why: WeasyPrint has known layouts on which it loops forever, its memory growing until the machine
runs out (Kozea/WeasyPrint #660, #1174, #1549; its maintainers advise a separate process with a
time limit). A document must never take the service, and the machines it drives, down with it. So
the conversion runs in one long-lived worker process (WeasyPrint imported once), with a memory
ceiling; a conversion that runs past its time is ended by ending the worker, and the caller gets a
clear error instead of a frozen request. The next document starts a fresh worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool

from fablabctl.errors import FablabError
from fablabctl.i18n import Text

log = logging.getLogger(__name__)

TIME_LIMIT_S = 90.0  # a 70-hour attendance sheet takes about a second; a loop never ends
MEMORY_LIMIT_BYTES = 3 * 1024**3  # address space of the worker: a runaway layout stops here


class DocumentFailed(FablabError):
    status = 503


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def _convert(html: str) -> bytes:
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})
    pdf = HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf()
    assert pdf is not None  # no target given: the bytes are returned
    return bytes(pdf)


class _Worker:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pool: ProcessPoolExecutor | None = None

    def _get(self) -> ProcessPoolExecutor:
        if self.pool is None:
            context = multiprocessing.get_context("spawn")  # nothing of the service's state is copied
            self.pool = ProcessPoolExecutor(1, mp_context=context, initializer=_limit_memory)
        return self.pool

    def _reset(self) -> None:
        pool, self.pool = self.pool, None
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()  # a looping conversion does not listen: the process goes
        pool.shutdown(wait=False, cancel_futures=True)

    def convert(self, html: str, time_limit_s: float) -> bytes:
        with self.lock:  # one document at a time: they are few and the worker is single
            future = self._get().submit(_convert, html)
            try:
                return future.result(timeout=time_limit_s)
            except FutureTimeout:
                self._reset()
                log.error("a PDF conversion ran past %.0f s: its worker was ended", time_limit_s)
                raise _failed() from None
            except (BrokenProcessPool, MemoryError) as exc:
                self._reset()
                log.error("a PDF conversion failed: %s", type(exc).__name__)
                raise _failed() from None


def _failed() -> DocumentFailed:
    return DocumentFailed(
        "DOCUMENT_FAILED",
        Text(
            "Le document n'a pas pu être mis en page. Réessayez ; si cela recommence, téléchargez la "
            "version CSV et prévenez l'administrateur.",
            "The document could not be laid out. Try again; if it happens again, download the CSV "
            "version and tell the administrator.",
        ),
    )


_WORKER = _Worker()


def html_to_pdf(html: str, *, time_limit_s: float = TIME_LIMIT_S) -> bytes:
    """The PDF of `html`, made in the bounded worker process (see the module's docstring)."""
    return _WORKER.convert(html, time_limit_s)
