"""The Marlin driver's serial link: read by the event loop itself, not by a thread.

`SerialLink` reads in a thread and hands each line to the loop (`call_soon_threadsafe`): every `ok`
then costs a thread wake-up, a GIL hand-over and a self-pipe write, and the driver's next write
waits for the GIL while that thread runs. Marlin answers every line, so this is the streaming rate's
hot path (measured: a 20 µs pty write took 175 µs on average in the driver). On POSIX, pyserial's
descriptor is non-blocking: the loop watches it (`add_reader`) and splits lines as they come, in
the driver's own thread, and hands each to the driver's callback (`deliver_to`) without a queue or a
task switch. Without a descriptor (Windows), `SerialLink`'s thread reads as before. Until a callback
is given, and with the thread, lines wait on `lines`; None means the port went away (cable pulled).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from fablabctl.machines.serial_link import SerialLink

Deliver = Callable[[str | None], None]


class LoopSerialLink(SerialLink):
    def __init__(self, port: str, baud: int) -> None:
        super().__init__(port, baud)
        self._fd: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._partial = b""
        self._deliver: Deliver = self.lines.put_nowait

    @property
    def in_loop(self) -> bool:
        """Read by the event loop (True), or by `SerialLink`'s thread."""
        return self._fd is not None

    def deliver_to(self, deliver: Deliver) -> None:
        """From now on each line goes to `deliver` as soon as it is read (those waiting first)."""
        while not self.lines.empty():
            deliver(self.lines.get_nowait())
        self._deliver = deliver

    def _start_reading(self, loop: asyncio.AbstractEventLoop) -> None:
        fd = getattr(self._serial, "fd", None)
        if not isinstance(fd, int):
            super()._start_reading(loop)
            return
        self._fd, self._loop, self._partial = fd, loop, b""
        loop.add_reader(fd, self._readable)

    def _readable(self) -> None:
        fd = self._fd
        if fd is None:
            return
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return
        except OSError:  # EIO: the device is gone
            data = b""
        if not data:  # readable yet empty: the device is gone (as pyserial reads it)
            self._stop_reading()
            self._deliver(None)
            return
        if b"\n" not in data:
            self._partial += data
            return
        *complete, self._partial = (self._partial + data).split(b"\n")
        for raw in complete:
            text = raw.decode("ascii", errors="replace").strip()
            if text:
                self._deliver(text)

    def _stop_reading(self) -> None:
        if self._fd is not None and self._loop is not None:
            self._loop.remove_reader(self._fd)
        self._fd = None

    async def close(self) -> None:
        self._stop_reading()  # before the descriptor closes: the loop must not watch a dead number
        self._deliver = self.lines.put_nowait
        await super().close()
