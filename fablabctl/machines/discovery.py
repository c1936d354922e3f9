"""Find machines on serial ports (mobile lab: plug in, scan, add): USB hints, then a safe probe.

The probe only listens and asks questions (Grbl's banner after a soft reset, Marlin's M115); it never
sends motion or heating commands.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from serial.tools import list_ports

from fablabctl.machines.base import MachineError
from fablabctl.machines.grbl import GrblDriver
from fablabctl.machines.marlin import MarlinDriver

BAUDS = (115200, 250000)
# USB-serial chips found on printer and laser boards
USB_HINTS = {
    (0x1A86, 0x7523): "CH340 (Creality, many GRBL boards)",
    (0x0403, 0x6001): "FTDI FT232",
    (0x2341, 0x0042): "Arduino Mega 2560 (RAMPS)",
    (0x2341, 0x0043): "Arduino Uno (GRBL)",
    (0x1D50, 0x6029): "Marlin (LPC176x)",
    (0x2C99, 0x0002): "Prusa i3 MK3",
    (0x0483, 0x5740): "STM32 virtual COM (SKR, BTT, Creality 32-bit)",
    (0x10C4, 0xEA60): "CP210x",
}


@dataclass(frozen=True, slots=True)
class Found:
    port: str
    driver: str  # marlin | grbl
    baud: int
    firmware: str
    hint: str

    @property
    def kind(self) -> str:
        return "laser" if self.driver == "grbl" else "printer"

    def add_command(self, name: str = "NAME") -> str:
        return (
            f"fablabctl machine add {name} --kind {self.kind} --driver {self.driver} --port {self.port} "
            f"--baud {self.baud} --bed {'400x300' if self.kind == 'laser' else '250x210x210'}"
        )


def usb_ports() -> list[tuple[str, str]]:
    """(device, human hint) for every serial port the system knows."""
    ports = []
    for info in list_ports.comports():
        hint = USB_HINTS.get((info.vid or 0, info.pid or 0)) or info.description or ""
        ports.append((info.device, hint))
    return ports


async def probe(port: str, hint: str = "", *, timeout: float = 3.0) -> Found | None:
    for baud in BAUDS:
        grbl = GrblDriver(port, baud, connect_timeout=timeout)
        with contextlib.suppress(MachineError):
            await grbl.connect()
            await grbl.disconnect()
            return Found(port, "grbl", baud, f"Grbl {grbl.version}", hint)
        marlin = MarlinDriver(port, baud, connect_timeout=timeout, ok_timeout=timeout)
        with contextlib.suppress(MachineError):
            await marlin.connect()
            await marlin.disconnect()
            return Found(port, "marlin", baud, marlin.capabilities.firmware or "Marlin", hint)
    return None


async def scan(ports: list[tuple[str, str]] | None = None, *, timeout: float = 3.0) -> list[Found]:
    """Probe each port (all known ports by default); ports are probed one after another, gently."""
    found = []
    for port, hint in ports if ports is not None else usb_ports():
        result = await probe(port, hint, timeout=timeout)
        if result:
            found.append(result)
    return found


def scan_sync(ports: list[tuple[str, str]] | None = None, timeout: float = 3.0) -> list[Found]:
    return asyncio.run(scan(ports, timeout=timeout))
