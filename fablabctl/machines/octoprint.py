"""OctoPrint over its REST API (httpx): upload and print, poll job and printer, pause/resume/cancel.

OctoPrint runs the print itself, so this driver only watches: a restart of *our* service loses
nothing (`attach` follows the job again), while a restart of OctoPrint ends the print (its serial
connection closes) and is reported as such.

The watch owns the connection while a job runs: when OctoPrint stops answering it keeps polling
with the same client, says so once when the outage starts and once when it ends, then either
carries on (the print survived: a network cut) or ends the job with what happened ("OctoPrint
restarted at 10:12; the print in progress is lost"); after `restart_grace_s` without an answer the
job ends too. Every job it follows ends with exactly one terminal event, whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from fablabctl.i18n import Text
from fablabctl.machines.base import (
    Driver,
    EventKind,
    Heater,
    MachineBusy,
    MachineError,
    MachineOffline,
    MachineRefused,
    MachineState,
    MachineStatus,
    MachineTimeout,
)
from fablabctl.machines.gate import REFUSED_CODE
from fablabctl.machines.octoprint_http import NETWORK_WORDS, OctoPrintHttp, network_error

__all__ = ["NETWORK_WORDS", "OctoPrintDriver", "network_error"]

POLL_S = 1.0
RESTART_GRACE_S = 90.0  # how long OctoPrint may be unreachable before the job is declared lost
PRINTING = {"Printing", "Starting", "Printing from SD", "Sending file to SD", "Resuming", "Finishing"}
PAUSED = {"Paused", "Pausing"}


def _clock() -> datetime:
    return datetime.now().astimezone()  # local time: what the people in the lab read on the wall


@dataclass
class _Outage:
    since: float  # monotonic
    at: datetime
    cause: Text


class OctoPrintDriver(Driver):
    kind = "octoprint"

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        port: str = "AUTO",
        baud: int | None = None,
        timeout: float = 10.0,
        poll_s: float = POLL_S,
        restart_grace_s: float = RESTART_GRACE_S,
    ) -> None:
        super().__init__()
        self.url, self.api_key = url.rstrip("/"), api_key
        self.serial_port, self.baud = port, baud
        self.poll_s, self.restart_grace_s = poll_s, restart_grace_s
        self.http = OctoPrintHttp(self.url, api_key, timeout=timeout)
        self._watch: asyncio.Task[None] | None = None
        self._cancelling = False
        self.version = ""

    # ------------------------------------------------------------------ HTTP

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, path, **kwargs)

    async def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return await self.http.json(method, path, **kwargs)

    # ------------------------------------------------------------------ connection

    async def connect(self) -> None:
        self.version = str((await self._json("GET", "/api/version")).get("server", ""))
        current = (await self._json("GET", "/api/connection")).get("current") or {}
        if current.get("state") in (None, "Closed", "Offline", "Error") or str(
            current.get("state")
        ).startswith(("Offline", "Error")):
            body: dict[str, Any] = {"command": "connect", "port": self.serial_port}
            if self.baud:
                body["baudrate"] = self.baud
            await self._request("POST", "/api/connection", json=body)
            await self._until_operational()
        await self._refresh()

    async def _until_operational(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = ((await self._json("GET", "/api/connection")).get("current") or {}).get("state")
            if state in ("Operational",) or state in PRINTING or state in PAUSED:
                return
            if str(state).startswith(("Error", "Offline")) and "Connecting" not in str(state):
                raise MachineOffline(
                    Text(
                        f"OctoPrint n'arrive pas à joindre l'imprimante : {state}",
                        f"OctoPrint cannot reach the printer: {state}",
                    )
                )
            await asyncio.sleep(0.3)
        raise MachineTimeout(
            Text("L'imprimante ne devient pas opérationnelle.", "The printer does not become operational.")
        )

    async def disconnect(self) -> None:
        if await self._stop_watch():  # whoever follows that job must not wait for ever
            self._end_failed(
                Text(
                    "Le service a fermé la connexion à OctoPrint pendant le suivi : "
                    "l'impression continue peut-être, vérifiez la machine.",
                    "The service closed the connection to OctoPrint while following the job: "
                    "the print may still be running, check the machine.",
                )
            )
        await self.http.aclose()
        self._set_state(MachineState.OFFLINE)

    async def _stop_watch(self) -> bool:
        """Stop following; True when a job was being followed."""
        watch, self._watch = self._watch, None
        if watch is None or watch.done():
            return False
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
        return True

    async def status(self) -> MachineStatus:
        """Asked fresh from OctoPrint (it is the one running the machine); while a job is followed,
        the watch's own last poll (a second poller would only double the traffic and the noise)."""
        if self._watch is None or self._watch.done():
            try:
                await self._refresh()
            except MachineError as exc:  # not "idle" on stale news: no job may be started on it
                self._status.last_error = exc.message.en
                self._set_state(MachineState.OFFLINE)
        return self._status

    async def _refresh(self) -> dict[str, Any]:
        job = await self._json("GET", "/api/job")
        state = str(job.get("state", "Offline"))
        progress = job.get("progress") or {}
        size = ((job.get("job") or {}).get("file") or {}).get("size") or 0
        self._status.done, self._status.total, self._status.unit = (
            int(progress.get("filepos") or 0),
            int(size),
            "bytes",
        )
        self._status.job = ((job.get("job") or {}).get("file") or {}).get("name")
        with contextlib.suppress(MachineBusy):  # 409 while the printer is not connected: no temperatures
            printer = await self._json("GET", "/api/printer", params={"history": "false"})
            temps = printer.get("temperature") or {}
            self._status.temperatures = {
                ("hotend" if name == "tool0" else name): Heater(
                    float(v.get("actual") or 0), float(v.get("target") or 0)
                )
                for name, v in temps.items()
                if isinstance(v, dict) and name in ("tool0", "bed", "chamber")
            }
        self._set_state(self._state_of(state))
        return job

    @staticmethod
    def _state_of(state: str) -> MachineState:
        if state in PRINTING or state == "Cancelling":
            return MachineState.BUSY
        if state in PAUSED:
            return MachineState.PAUSED
        if state == "Operational":
            return MachineState.IDLE
        if state.startswith("Error"):
            return MachineState.ERROR
        return MachineState.OFFLINE

    # ------------------------------------------------------------------ jobs

    async def start(self, path: Path) -> None:
        await self._refresh()
        if self._status.state is not MachineState.IDLE:
            raise MachineBusy(
                Text(
                    f"L'imprimante n'est pas prête ({self._status.state}).",
                    f"The printer is not ready ({self._status.state}).",
                ),
                code="OCTOPRINT_NOT_OPERATIONAL",
            )
        data = path.read_bytes()  # the exact bytes checked are the bytes uploaded
        if (refused := self.gate.file_refusal(data)) is not None:
            raise MachineRefused(refused, code=REFUSED_CODE)
        try:
            await self._request(
                "POST",
                "/api/files/local",
                files={"file": (path.name, data, "text/x.gcode")},
                data={"select": "true", "print": "true"},
            )
        except MachineTimeout:
            if not await self._printing_after_all(path.name):
                raise
        self._cancelling = False
        self._follow(path.name)

    async def _printing_after_all(self, name: str) -> bool:
        """An upload that timed out may still have gone through: ask OctoPrint once it answers,
        rather than leave a print running that nobody follows (bounded by `restart_grace_s`)."""
        deadline = time.monotonic() + self.restart_grace_s
        while time.monotonic() < deadline:
            await asyncio.sleep(self.poll_s)
            try:
                job = await self._refresh()
            except MachineError:
                continue
            current = ((job.get("job") or {}).get("file") or {}).get("name")
            return current == name and self._status.state in (MachineState.BUSY, MachineState.PAUSED)
        return False

    async def attach(self, job_name: str) -> bool:
        job = await self._refresh()
        name = ((job.get("job") or {}).get("file") or {}).get("name")
        if name == job_name and self._status.state in (MachineState.BUSY, MachineState.PAUSED):
            await self._stop_watch()  # one watch per job: a second one would report everything twice
            self._follow(job_name)
            return True
        return False

    def _follow(self, name: str) -> None:
        self._set_state(MachineState.BUSY)
        self._watch = asyncio.create_task(self._guarded_watch(name), name=f"octoprint job {name}")

    async def _guarded_watch(self, name: str) -> None:
        """The watch, with a guarantee: a bug in it still ends the job (failed, with the cause)."""
        try:
            await self._watch_job(name)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._end_failed(
                Text(
                    f"Erreur interne en suivant l'impression ({type(exc).__name__}) : vérifiez la machine.",
                    f"Internal error while following the print ({type(exc).__name__}): check the machine.",
                )
            )

    def _say(self, text: Text) -> None:
        self.hub.emit(EventKind.MESSAGE, text=text.en, text_fr=text.fr)

    async def _watch_job(self, name: str) -> None:
        started, seen_printing = time.monotonic(), False
        outage: _Outage | None = None
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                job = await self._refresh()
            except MachineRefused as exc:  # the API key changed: no point waiting
                self._end_failed(exc.message)
                return
            except MachineError as exc:  # unreachable, too slow, or answering errors while it starts
                if outage is None:
                    outage = _Outage(time.monotonic(), _clock(), exc.message)
                    self._status.last_error = exc.message.en
                    self._say(
                        Text(
                            f"OctoPrint ne répond plus depuis {outage.at:%H:%M:%S} ({exc.message.fr}) ; "
                            "le suivi de l'impression reprend dès son retour.",
                            f"OctoPrint stopped answering at {outage.at:%H:%M:%S} ({exc.message.en}); "
                            "following the print resumes as soon as it is back.",
                        )
                    )
                elif time.monotonic() - outage.since > self.restart_grace_s:
                    self._end_failed(
                        Text(
                            f"OctoPrint ne répond plus depuis {outage.at:%H:%M} (plus de "
                            f"{self.restart_grace_s:.0f} s) : l'impression est considérée comme perdue, "
                            f"vérifiez la machine. Dernière erreur : {exc.message.fr}",
                            f"OctoPrint has not answered since {outage.at:%H:%M} (over "
                            f"{self.restart_grace_s:.0f} s): the print is considered lost, check the "
                            f"machine. Last error: {exc.message.en}",
                        )
                    )
                    return
                continue
            state = str(job.get("state"))
            completion = float((job.get("progress") or {}).get("completion") or 0.0)
            current = ((job.get("job") or {}).get("file") or {}).get("name")
            if outage is not None:
                back, down_s = _clock(), time.monotonic() - outage.since
                outage = None
                self._status.last_error = None
                self._say(
                    Text(
                        f"OctoPrint répond de nouveau ({back:%H:%M:%S}, après {down_s:.0f} s).",
                        f"OctoPrint answers again ({back:%H:%M:%S}, after {down_s:.0f} s).",
                    )
                )
                if current != name or state.startswith(("Offline", "Closed", "Error")):
                    if self._cancelling:
                        self._ended_cancelled()
                        return
                    self._end_failed(
                        Text(
                            f"OctoPrint a redémarré à {back:%H:%M} ; l'impression en cours est perdue "
                            f"(OctoPrint indique « {state} »).",
                            f"OctoPrint restarted at {back:%H:%M}; the print in progress is lost "
                            f"(OctoPrint says '{state}').",
                        )
                    )
                    return
            self.hub.emit(
                EventKind.PROGRESS,
                done=self._status.done,
                total=self._status.total,
                unit="bytes",
                completion=completion,
            )
            if self._status.temperatures:
                self.hub.emit(
                    EventKind.TEMPERATURE,
                    **{
                        k: {"actual": h.actual, "target": h.target}
                        for k, h in self._status.temperatures.items()
                    },
                )
            if state in PRINTING or state in PAUSED or state == "Cancelling":
                seen_printing = True
                continue
            if state == "Operational" and current == name and completion >= 100.0:
                self.hub.emit(EventKind.JOB_DONE, seconds=round(time.monotonic() - started, 1))
                return
            if state == "Operational" and (self._cancelling or seen_printing):
                self._ended_cancelled()
                return
            if state.startswith(("Error", "Offline", "Closed")):
                self._end_failed(
                    Text(
                        f"L'impression s'est arrêtée : OctoPrint indique « {state} » "
                        "(imprimante déconnectée ou OctoPrint redémarré).",
                        f"The print stopped: OctoPrint says '{state}' "
                        "(printer disconnected or OctoPrint restarted).",
                    )
                )
                return

    def _ended_cancelled(self) -> None:
        self.hub.emit(
            EventKind.JOB_CANCELLED,
            done=self._status.done,
            total=self._status.total,
            by="fablabctl" if self._cancelling else "octoprint",
        )

    def _end_failed(self, reason: Text) -> None:
        self._status.last_error = reason.en
        self.hub.emit(EventKind.JOB_FAILED, reason=reason.en, reason_fr=reason.fr, done=self._status.done)

    async def pause(self) -> None:
        await self._request("POST", "/api/job", json={"command": "pause", "action": "pause"})

    async def resume(self) -> None:
        await self._request("POST", "/api/job", json={"command": "pause", "action": "resume"})

    async def cancel(self) -> None:
        self._cancelling = True
        await self._request("POST", "/api/job", json={"command": "cancel"})

    async def emergency_stop(self) -> None:
        await self._request("POST", "/api/printer/command", json={"commands": ["M112"]})
        self._set_state(MachineState.ERROR)
