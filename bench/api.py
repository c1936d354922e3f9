"""The API under a room full of pages: a real `fablabctl serve` (uvicorn subprocess), 200 seeded jobs.

Measured in one run, on SQLite and on PostgreSQL (a throwaway server, as the tests start it):
(a) saturation throughput of `GET /api/v1/jobs` (200 rows, logged-in trainer) against a minimal
    FastAPI app serving the same 200 rows from the same database with one plain SQL query
    (`bench/api_baseline.py`, also a uvicorn subprocess): target >= 50 %;
(b) 200 pages, each polling the job list and the machine list once a second: p99 < 50 ms, 0 failures;
(c) the same with 500 open event streams: p99 no worse than (b) (within 10 ms), and the streams hold
    0 database connections (the service's own pool figures, `GET /api/v1/health/pool`).
Throughout: no pool timeout in the service's log, and the dispatcher's tick keeps running.
The load client is `bench/apiload.py`, in this process (one core of two is the server's).

Run: .venv/bin/python bench/api.py [--db sqlite|postgresql|both] [--seconds 20] [--table]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from apiload import JOBS, Streams, poll, saturate, seed  # noqa: E402

from tests.api.live import LiveService  # noqa: E402
from tests.postgres_server import free_port, running_postgres  # noqa: E402

TRAINER_PASSWORD = "trainer-password-42"
POOL_TROUBLE = (
    "QueuePool limit",
    "TimeoutError",
    "DB_BUSY",
    "request failed on the database",
    "tick failed",
    "database unavailable",
    "Traceback",
)


@dataclass
class Figures:
    db: str
    rows: list[tuple[str, str, str, str, bool]] = field(default_factory=list)

    def add(self, measure: str, figure: str, target: str, met: bool) -> None:
        self.rows.append((f"API ({self.db})", measure, figure, target, met))
        print(f"  {measure}: {figure}  (target {target}) {'met' if met else 'NOT MET'}", flush=True)


def cpu_s(pid: int) -> float:
    """CPU time (user + system) a process has used: per request, a figure the other loads of a
    shared machine barely change, unlike rates and latencies."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def baseline(url: str, log: Path) -> Iterator[tuple[int, int]]:
    port = free_port()
    env = {**os.environ, "BENCH_DATABASE_URL": url}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api_baseline:app",
                "--app-dir",
                str(ROOT / "bench"),
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/jobs", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the baseline app did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def pool(service: LiveService, admin: dict[str, str]) -> dict[str, Any]:
    """The service's own pool and dispatcher figures (admin only); {} if it has none."""
    response = httpx.get(f"{service.url}/health/pool", headers=admin, timeout=10)
    return dict(response.json()) if response.status_code == 200 else {}


def trouble(service: LiveService) -> list[str]:
    text = service.log.read_text(errors="replace") if service.log.exists() else ""
    return [line for line in text.splitlines() if any(mark in line for mark in POOL_TROUBLE)]


def run_one(db: str, url: str | None, tmp: Path, seconds: float, clients: int, streams: int) -> Figures:
    figures = Figures(db)
    print(f"  load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    settings = {"demo": "true"}
    service = LiveService(tmp / f"data-{db}", **settings)
    if url:
        service.env["FABLAB_DATABASE_URL"] = url  # LiveService drops the caller's by default
    service.start(timeout=180)
    try:
        admin = service.login()
        body = {"username": "marc", "display_name": "Marc", "role": "trainer", "password": TRAINER_PASSWORD}
        assert service.call("POST", "/users", admin, json=body).status_code == 201
        trainer = service.login("marc", TRAINER_PASSWORD)
        db_url = (url or f"sqlite:///{(tmp / f'data-{db}' / 'fablabctl.db').resolve()}").replace(
            "postgresql://", "postgresql+psycopg://"
        )
        seed(db_url)
        rows = service.call("GET", "/jobs", trainer).json()
        assert len(rows) == JOBS, len(rows)
        before = pool(service, admin)
        host, port = "127.0.0.1", service.port
        paths = ["/api/v1/jobs", "/api/v1/machines"]

        # (a) saturation: ours, the two baselines, ours again (ours is the mean of its two runs)
        def rate(on_port: int, pid: int, headers: dict[str, str], path: str) -> tuple[float, int, float]:
            """(answers per second, failures, server CPU ms per answer)."""
            cpu, began = cpu_s(pid), time.monotonic()
            per_s, failures = asyncio.run(
                saturate(host, on_port, headers, path, concurrency=16, seconds=seconds / 2)
            )
            answers = per_s * (time.monotonic() - began)
            return per_s, failures, (cpu_s(pid) - cpu) * 1000 / max(answers, 1)

        assert service.proc is not None
        with baseline(db_url, tmp / f"baseline-{db}.log") as (bport, bpid):
            ours1, fail1, cpu1 = rate(port, service.proc.pid, trainer, "/api/v1/jobs")
            plain, _, cpu_plain = rate(bport, bpid, {}, "/jobs")
            raw, _, cpu_raw = rate(bport, bpid, {}, "/jobs-raw")
            ours2, fail2, cpu2 = rate(port, service.proc.pid, trainer, "/api/v1/jobs")
        ours, failed, cpu_ours = (ours1 + ours2) / 2, fail1 + fail2, (cpu1 + cpu2) / 2
        ratio = ours / raw if raw else 0.0
        figures.add(
            "job list (200 rows) saturation vs minimal FastAPI, one SQL query, json.dumps",
            f"{ratio:.0%} ({ours:.0f} vs {raw:.0f} req/s; {failed} failures)",
            ">= 50 %",
            ratio >= 0.5 and failed == 0,
        )
        figures.add(
            "job list server CPU per request vs that baseline",
            f"{cpu_raw / cpu_ours:.0%} ({cpu_ours:.1f} vs {cpu_raw:.1f} ms)",
            ">= 50 %",
            cpu_raw / cpu_ours >= 0.5,
        )
        figures.add(
            "job list saturation vs the same app with FastAPI's default encoding",
            f"{ours / plain if plain else 0:.0%} ({ours:.0f} vs {plain:.0f} req/s; CPU {cpu_plain:.1f} ms)",
            "(shown)",
            True,
        )

        # (b) 200 pages polling
        cpu, began = cpu_s(service.proc.pid), time.monotonic()
        polled = asyncio.run(poll(host, port, trainer, paths, clients=clients, seconds=seconds))
        busy = (cpu_s(service.proc.pid) - cpu) / (time.monotonic() - began)
        p99b = polled.percentile(0.99) * 1000
        figures.add(
            f"{clients} pages polling: requests answered / offered, server CPU",
            f"{polled.count} / {clients * len(paths) * seconds:.0f}; "
            f"{busy:.0%} of a core, {busy * (time.monotonic() - began) * 1000 / max(polled.count, 1):.1f} ms "
            "per request",
            "all; < 100 % (one process)",
            polled.count >= clients * len(paths) * seconds * 0.95 and busy < 1.0,
        )
        figures.add(
            f"{clients} pages x (job list + machine list) / s: p99",
            f"{p99b:.1f} ms (p50 {polled.percentile(0.5) * 1000:.1f} ms, {polled.count} requests)",
            "< 50 ms",
            p99b < 50,
        )
        figures.add(
            f"{clients} pages polling: failures",
            f"{polled.failures} {dict(polled.statuses)}",
            "0",
            polled.failures == 0,
        )

        # (c) the same with open event streams
        async def with_streams() -> tuple[Any, dict[str, Any], int]:
            open_streams = Streams(host, port, trainer, "/api/v1/events", streams)
            await open_streams.open()
            held = await asyncio.to_thread(pool, service, admin)
            result = await poll(host, port, trainer, paths, clients=clients, seconds=seconds)
            ended = open_streams.ended
            await open_streams.close()
            return result, held, ended

        polled_c, held, ended = asyncio.run(with_streams())
        p99c = polled_c.percentile(0.99) * 1000
        figures.add(
            f"same + {streams} open event streams: p99",
            f"{p99c:.1f} ms (p50 {polled_c.percentile(0.5) * 1000:.1f} ms; failures {polled_c.failures})",
            "< 50 ms, <= (b) + 10 ms",
            p99c < 50 and p99c <= p99b + 10 and polled_c.failures == 0,
        )
        checked_out = held.get("checked_out", "?")
        figures.add(
            f"database connections held by {streams} open streams",
            f"{checked_out} ({ended} ended early)",
            "0",
            checked_out == 0 and ended == 0,
        )
        after = pool(service, admin)
        ticks = after.get("dispatcher_ticks", 0) - before.get("dispatcher_ticks", 0)
        failed = after.get("dispatcher_tick_failures", 0) - before.get("dispatcher_tick_failures", 0)
        bad = trouble(service)
        figures.add(
            "dispatcher ticks during the run / failed",
            f"{ticks} / {failed}" if after else "not reported",
            "> 0 / 0",
            ticks > 0 and failed == 0,
        )
        figures.add("pool timeouts and database errors in the log", str(len(bad)), "0", not bad)
        for line in bad[:5]:
            print("   ", line[:200])
    finally:
        service.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--table", action="store_true", help="print markdown rows | area | measure | ...")
    args = parser.parse_args()
    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="fablab-bench-api-") as name:
        tmp = Path(name)
        if args.db in ("sqlite", "both"):
            print("SQLite", flush=True)
            results.append(run_one("SQLite", None, tmp, args.seconds, args.clients, args.streams))
        if args.db in ("postgresql", "both"):
            print("PostgreSQL", flush=True)
            with running_postgres() as url:
                results.append(run_one("PostgreSQL", url, tmp, args.seconds, args.clients, args.streams))
    if args.table:
        for figures in results:
            for area, measure, figure, target, met in figures.rows:
                print(f"| {area} | {measure} | {figure} | {target} | {'yes' if met else 'no'} |")


if __name__ == "__main__":
    main()
