"""OctoPrint's virtual printer (a third-party Marlin emulation, `octoprint.plugins.virtual_printer`) on
a pty, so the bench can compare our driver with a minimal ping-pong client against firmware code
that is not ours. Runs under OctoPrint's own venv (.venv-octoprint, from scripts/setup_octoprint.sh):

    .venv-octoprint/bin/python bench/_virtual_marlin.py   # prints the pty path, serves until stdin closes

When stdin closes it prints one JSON line: the last line number it accepted and how many numbered lines
it received, so the bench can check that every line arrived exactly once (none twice, none resent).

The emulation keeps its defaults (64-byte receive buffer, 4 commands buffered, line numbers and
checksums checked) except its demo errors (a resend at line 100 and so on), switched off so both clients
stream the same clean job; the bridge only copies bytes between the pty and its `write`/`readline`,
handing it one line per `write` (its reader takes a single line from each `write`, so two lines arriving
together would leave the second waiting for the next write: a quirk of the emulation, not of Marlin).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import tty
from typing import Any


class Settings:
    """The plugin's default settings, read the way the emulation asks for them."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, path: list[str], **_: object) -> Any:
        value: Any = self.values
        for key in path:
            value = value[key]
        return value

    def get_int(self, path: list[str], **_: object) -> int:
        return int(self.get(path))

    def get_float(self, path: list[str], **_: object) -> float:
        return float(self.get(path))

    def get_boolean(self, path: list[str], **_: object) -> bool:
        return bool(self.get(path))

    def global_get_basefolder(self, name: str) -> str:
        return tempfile.mkdtemp(prefix=f"virtual-{name}-")


class Profiles:
    def get_current_or_default(self) -> dict[str, Any]:
        volume = {
            "width": 200,
            "depth": 200,
            "height": 200,
            "origin": "lowerleft",
            "formFactor": "rectangular",
        }
        return {"volume": volume, "extruder": {"count": 1, "sharedNozzle": False}, "heatedBed": True}


def main() -> None:
    from octoprint.plugins.virtual_printer import VirtualPrinterPlugin, virtual

    class NoPlugins:  # no OctoPrint server around: no plugin adds custom actions
        def get_hooks(self, _name: str) -> dict[str, Any]:
            return {}

    virtual.plugin_manager = NoPlugins  # type: ignore[assignment]

    defaults = VirtualPrinterPlugin.get_settings_defaults(None)  # type: ignore[arg-type]
    defaults["simulated_errors"] = []  # its demo errors at lines 100, 105...: the rate is compared clean
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    printer = virtual.VirtualPrinter(Settings(defaults), Profiles(), tempfile.mkdtemp(), read_timeout=0.5)

    def to_host() -> None:
        while True:
            line = printer.readline()
            if line:
                os.write(master, line if line.endswith(b"\n") else line + b"\n")

    def report() -> None:  # the bench closes our stdin when its client is done
        sys.stdin.read()
        seen = {"last_line": printer.lastN, "received_lines": printer._received_lines}
        print(json.dumps(seen), flush=True)
        os._exit(0)

    threading.Thread(target=to_host, daemon=True).start()
    threading.Thread(target=report, daemon=True).start()
    print(os.ttyname(slave), flush=True)
    pending = b""
    while True:
        pending += os.read(master, 4096)
        *lines, pending = pending.split(b"\n")
        for line in lines:  # one write per line: the emulation takes one line per write it receives
            data = line + b"\n"
            while data:
                data = data[printer.write(data) :]


if __name__ == "__main__":
    sys.exit(main())
