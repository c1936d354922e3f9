"""PDF conversion runs in a bounded worker: a layout that never ends costs a clear error, not the
service (WeasyPrint loops forever on some layouts, its memory growing)."""

from __future__ import annotations

import resource
import time

import pytest

from fablabctl.documents import pdf_process
from fablabctl.documents.pdf_process import DocumentFailed, html_to_pdf


def test_a_document_is_a_pdf() -> None:
    pdf = html_to_pdf("<html><body><h1>Feuille de présence</h1><p>Léa : 7 h 00</p></body></html>")
    assert pdf.startswith(b"%PDF-")


def test_a_conversion_past_its_time_is_ended_and_the_next_one_works(monkeypatch: pytest.MonkeyPatch) -> None:
    html_to_pdf("<p>réchauffe le travailleur</p>")  # the worker is up, WeasyPrint imported
    heavy = "<html><body>" + "<table><tr><td>x</td></tr></table>" * 40_000 + "</body></html>"
    started = time.monotonic()
    with pytest.raises(DocumentFailed) as failed:
        html_to_pdf(heavy, time_limit_s=0.5)  # far longer than half a second to lay out
    assert time.monotonic() - started < 10  # the caller is answered, the layout is not waited for
    assert failed.value.code == "DOCUMENT_FAILED" and failed.value.status == 503
    assert "CSV" in failed.value.message.fr
    assert html_to_pdf("<p>encore</p>").startswith(b"%PDF-")  # a fresh worker took over


def test_the_worker_has_a_memory_ceiling() -> None:
    html_to_pdf("<p>le travailleur est là</p>")
    soft, hard = pdf_process._WORKER._get().submit(resource.getrlimit, resource.RLIMIT_AS).result(timeout=30)
    assert (
        soft == hard == pdf_process.MEMORY_LIMIT_BYTES
    )  # a runaway layout stops there, not at the machine's
