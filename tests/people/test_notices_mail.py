"""An unexcused absence e-mails the referent when an SMTP server is configured (a local aiosmtpd
sink here); without one, or when it is down, the notice is listed and exportable, never lost."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import Message
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from fablabctl.config import Settings
from fablabctl.context import ServiceContext
from tests.people.scenario import ok

API = "/api/v1"
Headers = Callable[[str], dict[str, str]]


class Sink:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def absent_jordan(client: TestClient, headers: Headers, referent: str) -> tuple[int, int]:
    admin = headers("admin")
    cid = ok(client.post(f"{API}/cohorts", json={"name": "Avril", "starts_on": "2025-04-07",
                                                 "ends_on": "2025-04-11"}, headers=admin))["id"]  # fmt: skip
    body = {"username": "jordan", "display_name": "Jordan", "role": "tigiste", "password": "longenough"}
    uid = ok(client.post(f"{API}/users", json=body, headers=admin))["id"]
    body = {"cohort_id": cid, "user_id": uid, "hours_due": 70, "referent_contact": referent}
    ok(client.post(f"{API}/enrolments", json=body, headers=admin))
    slot = {"day": "2025-04-07", "starts_at": "09:00", "ends_at": "12:30", "phase": "formation"}
    ok(client.put(f"{API}/cohorts/{cid}/timetable", json={"slots": [slot]}, headers=admin), 200)
    (absence,) = ok(client.get(f"{API}/cohorts/{cid}/absences", headers=admin), 200)
    return cid, absence["id"]


def test_unexcused_absence_mails_the_referent(
    client: TestClient,
    headers: Headers,
    user_ids: dict[str, int],
    context: ServiceContext,
    smtp: tuple[Sink, int],
) -> None:
    sink, port = smtp
    context.settings = Settings(
        **{**context.settings.model_dump(), "smtp_host": "127.0.0.1", "smtp_port": port}
    )
    cid, absence = absent_jordan(client, headers, "Mme Morel, SPIP de Brest <c.morel@spip.example>")
    decided = client.patch(f"{API}/absences/{absence}", json={"excused": False}, headers=headers("trainer"))
    assert decided.status_code == 200 and decided.json()["notice_id"] is not None
    (mail,) = sink.messages
    assert (
        mail["To"] == "c.morel@spip.example"
        and "Absence non excusée – Jordan – 07/04/2025" in mail["Subject"]
    )
    assert "de 09:00 à 12:30" in mail.get_content()
    (notice,) = ok(client.get(f"{API}/cohorts/{cid}/notices", headers=headers("trainer")), 200)
    assert notice["emailed_at"] is not None and notice["email_error"] is None


def test_without_a_reachable_server_the_notice_waits(
    client: TestClient,
    headers: Headers,
    user_ids: dict[str, int],
    context: ServiceContext,
    smtp: tuple[Sink, int],
) -> None:
    sink, port = smtp
    dead = free_port()
    context.settings = Settings(
        **{**context.settings.model_dump(), "smtp_host": "127.0.0.1", "smtp_port": dead}
    )
    cid, absence = absent_jordan(client, headers, "c.morel@spip.example")
    assert client.patch(
        f"{API}/absences/{absence}", json={"excused": False}, headers=headers("trainer")
    ).is_success
    (notice,) = ok(client.get(f"{API}/cohorts/{cid}/notices", headers=headers("trainer")), 200)
    assert notice["emailed_at"] is None and "injoignable" in notice["email_error"]
    # the server is back: the pending notices go on request
    context.settings = Settings(**{**context.settings.model_dump(), "smtp_port": port})
    (sent,) = ok(client.post(f"{API}/cohorts/{cid}/notices/send", headers=headers("trainer")), 200)
    assert sent["emailed_at"] is not None and len(sink.messages) == 1
