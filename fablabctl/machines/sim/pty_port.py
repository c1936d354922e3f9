"""The simulator's end of a pseudo-terminal: raw mode, optional link-speed emulation, clean close."""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
import tty


class PtyPort:
    """Owns a pty pair; the simulator reads and writes the master, drivers open `path` (the slave)."""

    def __init__(self, bytes_per_s: float | None = None) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        tty.setraw(self.master)
        self.path = os.ttyname(self.slave)
        self.bytes_per_s = bytes_per_s
        self.closed = threading.Event()

    def read(self, timeout: float = 0.05) -> bytes:
        """Whatever arrived (maybe nothing); b'' also when closed."""
        if self.closed.is_set():
            return b""
        try:
            ready, _, _ = select.select([self.master], [], [], timeout)
            if not ready:
                return b""
            data = os.read(self.master, 4096)
        except OSError:
            return b""
        if data and self.bytes_per_s:
            time.sleep(len(data) / self.bytes_per_s)
        return data

    def write(self, data: bytes) -> None:
        if self.closed.is_set():
            return
        if self.bytes_per_s:
            time.sleep(len(data) / self.bytes_per_s)
        with contextlib.suppress(OSError):
            os.write(self.master, data)

    def close(self) -> None:
        """Like pulling the USB cable: the driver's next read or write fails."""
        if self.closed.is_set():
            return
        self.closed.set()
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)
