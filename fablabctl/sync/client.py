"""Van side over HTTP: pull before leaving, push when back online (resumable, batch by batch).

A push first adds what is new to the outbox, sends the design files the central site lacks (each
once, by content hash), then the records in outbox order, in batches; each batch's answers are
stored as soon as they arrive. Cut anywhere, the next push resends only what was not acknowledged,
and the central site answers `duplicate` for what it had already applied.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from fablabctl.db.engine import session_scope
from fablabctl.errors import FablabError, Invalid
from fablabctl.i18n import Text
from fablabctl.sync import outbox
from fablabctl.sync.codec import get_state
from fablabctl.sync.collect import collect
from fablabctl.sync.pull_apply import PullResult, apply_pull

BATCH = 50
BATCH_BYTES = 512 * 1024  # under the API's JSON body limit (1 MiB)
TIMEOUT_S = 120.0


class SyncHttpError(FablabError):
    status = 502


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=url.rstrip("/") + "/api/v1/sync",
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT_S,
    )


def _check(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            body = response.json()
            raise SyncHttpError(
                body["code"], Text(body["message"], body["message"]), status=response.status_code
            )
        except (ValueError, KeyError, TypeError):
            raise SyncHttpError(
                f"HTTP_{response.status_code}",
                Text(
                    f"Le site central a répondu {response.status_code}.",
                    f"The central site answered {response.status_code}.",
                ),
            ) from None
    return response.json()


def _call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    try:
        return _check(client.request(method, path, **kwargs))
    except httpx.HTTPError:
        raise SyncHttpError(
            "SYNC_UNREACHABLE",
            Text(
                "Site central injoignable : rien n'est perdu, relancez l'envoi plus tard.",
                "Central site unreachable: nothing is lost, push again later.",
            ),
        ) from None


def pull(
    sessions: sessionmaker[Session],
    *,
    url: str,
    token: str,
    cohort_id: int,
    site: str,
    data_dir: Path,
    designs_dir: Path,
) -> PullResult:
    with _client(url, token) as client:
        bundle = _call(client, "GET", "/pull", params={"cohort_id": cohort_id})
    with session_scope(sessions) as session:
        collect(session)  # records made before this pull keep their place in the outbox
        return apply_pull(
            session, bundle, site_name=site, central_url=url, data_dir=data_dir, designs_dir=designs_dir
        )


@dataclass
class PushReport:
    files_sent: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    problems: list[dict[str, Any]] = field(default_factory=list)
    waiting: int = 0


def _batches(rows: list[Any], batch: int) -> list[list[Any]]:
    batches: list[list[Any]] = [[]]
    size = 0
    for row in rows:
        row_size = len(json.dumps(row.payload, default=str))
        if batches[-1] and (len(batches[-1]) >= batch or size + row_size > BATCH_BYTES):
            batches.append([])
            size = 0
        batches[-1].append(row)
        size += row_size
    return [b for b in batches if b]


def central_cohort(session: Session) -> int:
    central = get_state(session, "central")
    if not central:
        raise Invalid(
            "SYNC_NOT_PULLED",
            Text(
                "Ce poste n'a encore rien reçu : lancez d'abord « fablabctl sync pull ».",
                "This machine has nothing from a central site yet: run 'fablabctl sync pull' first.",
            ),
        )
    return int(central["cohort_id"])


def push(
    sessions: sessionmaker[Session], *, url: str, token: str, designs_dir: Path, batch: int = BATCH
) -> PushReport:
    report = PushReport()
    with session_scope(sessions) as session:
        cohort_id = central_cohort(session)
        collect(session)
        rows = outbox.pending(session)
        hashes = outbox.needed_files(rows)
    with _client(url, token) as client:
        missing = []
        if hashes:
            missing = _call(client, "POST", "/files/missing", json={"hashes": hashes})["missing"]
        for sha in missing:
            data = outbox.read_file(designs_dir, sha)
            headers = {"Content-Type": "application/octet-stream"}
            _call(client, "POST", "/files", params={"sha256": sha}, content=data, headers=headers)
            report.files_sent += 1
        with session_scope(sessions) as session:
            batches = [[r.key for r in chunk] for chunk in _batches(outbox.pending(session), batch)]
        for keys_batch in batches:
            with session_scope(sessions) as session:
                rows = [r for r in outbox.pending(session) if r.key in set(keys_batch)]
                items = [outbox.as_item(r) for r in rows]
            body = {"cohort_id": cohort_id, "items": items}
            answers = _call(client, "POST", "/push", json=body)["results"]
            with session_scope(sessions) as session:
                report.counts.update(outbox.record_answers(session, answers))
            for answer in answers:
                report.by_kind[answer["kind"]] += 1
                if answer["status"] in ("refused", "flagged", "retry"):
                    report.problems.append(answer)
    with session_scope(sessions) as session:
        report.waiting = len(outbox.pending(session))
        outbox.note(session, "last_push", {"url": url, **dict(report.counts)})
    return report
