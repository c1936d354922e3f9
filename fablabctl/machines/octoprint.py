"""OctoPrint over its REST API (httpx): upload and print, poll job and printer, pause/resume/cancel.

OctoPrint runs the print itself, so this driver only watches: a restart of *our* service loses
nothing (`attach` follows the job again), while a restart of OctoPrint ends the print (its serial
connection closes) and is reported as such.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
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

POLL_S = 1.0
RESTART_GRACE_S = 90.0  # how long OctoPrint may be unreachable before the job is declared lost
PRINTING = {"Printing", "Starting", "Printing from SD", "Sending file to SD", "Resuming", "Finishing"}
PAUSED = {"Paused", "Pausing"}


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
        self.client = httpx.AsyncClient(base_url=self.url, headers={"X-Api-Key": api_key}, timeout=timeout)
        self._watch: asyncio.Task[None] | None = None
        self._cancelling = False
        self.version = ""

    # ------------------------------------------------------------------ HTTP

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.client.request(method, path, **kwargs)
        except httpx.ConnectError:
            raise MachineOffline(
                Text(f"OctoPrint injoignable ({self.url}).", f"OctoPrint unreachable ({self.url}).")
            ) from None
        except httpx.TimeoutException:
            raise MachineTimeout(
                Text(
                    f"OctoPrint ne répond pas à temps ({self.url}).",
                    f"OctoPrint answers too slowly ({self.url}).",
                )
            ) from None
        except httpx.HTTPError as exc:
            raise MachineOffline(
                Text(f"Erreur réseau avec OctoPrint : {exc}", f"Network error with OctoPrint: {exc}")
            ) from None
        if response.status_code in (401, 403):
            raise MachineRefused(
                Text(
                    "Clé d'API OctoPrint refusée : vérifiez-la dans la fiche machine.",
                    "OctoPrint refused the API key: check it in the machine's settings.",
                ),
                code="OCTOPRINT_BAD_KEY",
            )
        if response.status_code == 409:
            raise MachineBusy(
                Text(
                    f"OctoPrint refuse : imprimante non opérationnelle ou occupée ({response.text[:120]}).",
                    f"OctoPrint refuses: printer not operational or busy ({response.text[:120]}).",
                ),
                code="OCTOPRINT_NOT_OPERATIONAL",
            )
        if response.status_code >= 400:
            raise MachineError(
                Text(
                    f"OctoPrint a répondu {response.status_code} : {response.text[:200]}",
                    f"OctoPrint answered {response.status_code}: {response.text[:200]}",
                ),
                code="OCTOPRINT_ERROR",
            )
        return response

    # ------------------------------------------------------------------ connection

    async def connect(self) -> None:
        self.version = (await self._request("GET", "/api/version")).json().get("server", "")
        current = (await self._request("GET", "/api/connection")).json()["current"]
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
            state = (await self._request("GET", "/api/connection")).json()["current"]["state"]
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
        if self._watch and not self._watch.done():
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await self.client.aclose()
        self._set_state(MachineState.OFFLINE)

    async def status(self) -> MachineStatus:
        """Asked fresh from OctoPrint (it is the one running the machine)."""
        with contextlib.suppress(MachineError):
            await self._refresh()
        return self._status

    async def _refresh(self) -> dict[str, Any]:
        job: dict[str, Any] = (await self._request("GET", "/api/job")).json()
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
            printer = (await self._request("GET", "/api/printer", params={"history": "false"})).json()
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
        with path.open("rb") as stream:
            await self._request(
                "POST",
                "/api/files/local",
                files={"file": (path.name, stream, "text/x.gcode")},
                data={"select": "true", "print": "true"},
            )
        self._cancelling = False
        self._follow(path.name)

    async def attach(self, job_name: str) -> bool:
        job = await self._refresh()
        name = ((job.get("job") or {}).get("file") or {}).get("name")
        if name == job_name and self._status.state in (MachineState.BUSY, MachineState.PAUSED):
            self._follow(job_name)
            return True
        return False

    def _follow(self, name: str) -> None:
        self._set_state(MachineState.BUSY)
        self._watch = asyncio.create_task(self._watch_job(name), name=f"octoprint job {name}")

    async def _watch_job(self, name: str) -> None:
        started, seen_printing, unreachable_since, restarted = time.monotonic(), False, None, False
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                job = await self._refresh()
            except (MachineOffline, MachineTimeout) as exc:
                unreachable_since = unreachable_since or time.monotonic()
                self.hub.emit(EventKind.MESSAGE, text=exc.message.en)
                if time.monotonic() - unreachable_since > self.restart_grace_s:
                    self._end_failed(
                        Text(
                            "OctoPrint est resté injoignable : le travail est perdu.",
                            "OctoPrint stayed unreachable: the job is lost.",
                        )
                    )
                    return
                continue
            except MachineError as exc:
                self._end_failed(exc.message)
                return
            if unreachable_since is not None:
                unreachable_since, restarted = None, True
                self.hub.emit(EventKind.MESSAGE, text="OctoPrint reachable again")
            state = str(job.get("state"))
            completion = float((job.get("progress") or {}).get("completion") or 0.0)
            current = ((job.get("job") or {}).get("file") or {}).get("name")
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
            if restarted and not self._cancelling:
                self._end_failed(
                    Text(
                        f"OctoPrint a redémarré pendant l'impression : elle est perdue (état « {state} »).",
                        f"OctoPrint restarted during the print: it is lost (OctoPrint says '{state}').",
                    )
                )
                return
            if state == "Operational" and (self._cancelling or seen_printing):
                self.hub.emit(
                    EventKind.JOB_CANCELLED,
                    done=self._status.done,
                    total=self._status.total,
                    by="fablabctl" if self._cancelling else "octoprint",
                )
                return
            if state.startswith(("Error", "Offline", "Closed")) or state == "Offline":
                self._end_failed(
                    Text(
                        f"L'impression s'est arrêtée : OctoPrint indique « {state} ».",
                        f"The print stopped: OctoPrint says '{state}'.",
                    )
                )
                return

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
