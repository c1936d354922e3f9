"""What both simulators share: a pty, a thread running the firmware loop, start/stop, `with` support."""

from __future__ import annotations

import abc
import threading
from typing import Self

from fablabctl.machines.sim.pty_port import PtyPort


class PtySimulator(abc.ABC):
    name = "simulator"

    def __init__(self, bytes_per_s: float | None = None) -> None:
        self.pty = PtyPort(bytes_per_s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=self.name)

    @property
    def port(self) -> str:
        """The device path a driver opens, like /dev/ttyUSB0 for a real machine."""
        return self.pty.path

    def start(self) -> str:
        self._thread.start()
        self._greet()
        return self.port

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self.pty.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @abc.abstractmethod
    def _run(self) -> None:
        """The firmware's main loop, until `_stop` is set or the pty is closed."""

    @abc.abstractmethod
    def _greet(self) -> None:
        """What the firmware prints when it boots."""
