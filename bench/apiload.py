"""A lean HTTP/1.1 load client for the API bench and the load test (bench/api.py, tests/api/test_load.py).

Each simulated page keeps one keep-alive connection (as a browser does) and is written on asyncio
streams, not httpx: at 400+ requests/s on a 2-core machine a heavier client would eat the CPU the
server under test needs and its own queueing would show up as server latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass, field
from datetime import timedelta

from fablabctl.clock import utc_now
from fablabctl.db.engine import make_engine, make_session_factory, session_scope
from fablabctl.db.models import Design, DesignFile, Job, User

TIMEOUT_S = 10.0
JOBS = 200
STATES = ("submitted", "done", "failed", "cancelled", "rejected", "done", "done", "approved")


def seed(url: str, jobs: int = JOBS) -> None:
    """200 jobs of 10 tigistes, in states the dispatcher leaves alone, with their designs."""
    engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    now = utc_now()
    with session_scope(make_session_factory(engine)) as session:
        admin = session.query(User).filter_by(username="admin").one()
        owners = []
        for n in range(10):
            user = User(
                username=f"bench-{n}",
                display_name=f"Tigiste {n}",
                role="tigiste",
                password_hash="!",
                active=True,
            )
            session.add(user)
            owners.append(user)
        session.flush()
        session.add(
            DesignFile(
                sha256="b" * 64,
                size_bytes=1234,
                file_type="dxf",
                ok=True,
                report={"en": {"metrics": {"size_mm": [100.0, 80.0, 0.0]}}},
            )
        )
        session.flush()
        designs = [
            Design(sha256="b" * 64, filename=f"piece-{n}.dxf", owner_id=u.id) for n, u in enumerate(owners)
        ]
        session.add_all(designs)
        session.flush()
        for n in range(jobs):
            owner = owners[n % len(owners)]
            session.add(
                Job(
                    design_id=designs[n % len(designs)].id,
                    kind="laser",
                    material="plywood-poplar-3mm",
                    quantity=1,
                    priority=0,
                    state=STATES[n % len(STATES)],
                    owner_id=owner.id,
                    submitted_by_id=owner.id,
                    approved_by_id=admin.id,
                    run_number=1,
                    settings={"profile": "standard"},
                    estimates={"seconds": 600 + n},
                    progress=1.0 if n % 3 else 0.0,
                    machine_seconds=float(n),
                    created_at=now - timedelta(minutes=n),
                    updated_at=now,
                )
            )
    engine.dispose()


class Conn:
    """One keep-alive connection; `get` returns (status, body bytes)."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            await self._open()
        assert self.reader is not None and self.writer is not None
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}\r\n"
        self.writer.write(request.encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, chunked, close = 0, False, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        if chunked:
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                body += await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            body = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


@dataclass
class PollResult:
    latencies: list[float] = field(default_factory=list)  # seconds, every answered request
    failures: int = 0  # not 200, connection error or no answer within TIMEOUT_S
    statuses: dict[int, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)  # no answer: exception name -> count

    @property
    def count(self) -> int:
        return len(self.latencies)

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def poll(
    host: str,
    port: int,
    headers: dict[str, str],
    paths: list[str],
    *,
    clients: int,
    seconds: float,
    period: float = 1.0,
    timeout: float = TIMEOUT_S,
) -> PollResult:
    """`clients` pages, each asking every path once per `period`, at random phases, for `seconds`
    (a page that fell behind asks again at once, but never twice to catch up)."""
    result = PollResult()
    start = time.monotonic() + 0.2
    end = start + seconds

    async def page() -> None:
        conn = Conn(host, port, headers)
        tick = start + random.uniform(0, period)
        try:
            while tick < end:
                await asyncio.sleep(max(0.0, tick - time.monotonic()))
                for path in paths:
                    sent = time.monotonic()
                    try:
                        status, _ = await asyncio.wait_for(conn.get(path), timeout)
                    except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as error:
                        result.failures += 1
                        result.errors[type(error).__name__] = result.errors.get(type(error).__name__, 0) + 1
                        await conn.close()
                        continue
                    result.statuses[status] = result.statuses.get(status, 0) + 1
                    if status == 200:
                        result.latencies.append(time.monotonic() - sent)
                    else:
                        result.failures += 1
                tick = max(tick + period, time.monotonic())
        finally:
            await conn.close()

    await asyncio.gather(*(page() for _ in range(clients)))
    return result


async def saturate(
    host: str, port: int, headers: dict[str, str], path: str, *, concurrency: int, seconds: float
) -> tuple[float, int]:
    """As many requests as `concurrency` connections can get through: (answers per second, failures)."""
    done, failures = 0, 0
    end = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done, failures
        conn = Conn(host, port, headers)
        try:
            while time.monotonic() < end:
                try:
                    status, _ = await asyncio.wait_for(conn.get(path), TIMEOUT_S)
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                    failures += 1
                    await conn.close()
                    continue
                if status == 200:
                    done += 1
                else:
                    failures += 1
        finally:
            await conn.close()

    began = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.monotonic() - began), failures


class Streams:
    """`count` open event streams (Server-Sent Events), each read to the end in the background."""

    def __init__(self, host: str, port: int, headers: dict[str, str], path: str, count: int) -> None:
        self.host, self.port, self.path, self.count = host, port, path, count
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writers: list[asyncio.StreamWriter] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.events = 0  # event or comment blocks received, all streams
        self.ended = 0  # streams the server closed while they should be open

    async def _open_one(self) -> None:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nAccept: text/event-stream\r\n{self.extra}\r\n"
        )
        writer.write(request.encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT_S)
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            writer.close()
            raise RuntimeError(f"event stream refused: HTTP {status}")
        first = await asyncio.wait_for(reader.readuntil(b"\n\n"), TIMEOUT_S)  # ": connected"
        self.events += first.count(b"\n\n")
        self.writers.append(writer)
        self.tasks.append(asyncio.create_task(self._drain(reader)))

    async def _drain(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    self.ended += 1
                    return
                self.events += data.count(b"\n\n")
        except (OSError, asyncio.CancelledError):
            return

    async def open(self, at_once: int = 50) -> None:
        """Open them in batches (a page load at a time would be gentler still)."""
        for first in range(0, self.count, at_once):
            await asyncio.gather(*(self._open_one() for _ in range(min(at_once, self.count - first))))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for writer in self.writers:
            writer.close()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.writers.clear()
        self.tasks.clear()
