"""A serial line as asyncio sees it: pyserial in a reader thread, lines delivered to a queue.

pyserial is blocking; one daemon thread per port reads lines and hands them to the event loop.
A vanished port (USB cable pulled) ends the stream with `None`, which the drivers turn into a
clear "machine disconnected" error instead of a hang.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import os
import threading

import serial

from fablabctl.i18n import Text
from fablabctl.machines.base import Driver, MachineOffline, MachineTimeout


class SerialLink:
    def __init__(self, port: str, baud: int) -> None:
        self.port, self.baud = port, baud
        self._serial: serial.Serial | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._write_lock = threading.Lock()
        self._backlog = 0  # writes handed to a worker thread and not finished yet

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._serial = await asyncio.to_thread(
                serial.Serial, self.port, self.baud, timeout=0.1, write_timeout=5
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise MachineOffline(
                Text(
                    f"Impossible d'ouvrir le port {self.port} : {exc}", f"Cannot open port {self.port}: {exc}"
                )
            ) from None
        self._closing.clear()
        self._start_reading(loop)

    def _start_reading(self, loop: asyncio.AbstractEventLoop) -> None:
        """A thread reads the port and hands lines to `loop` (`marlin_link` reads in the loop itself)."""
        self._thread = threading.Thread(
            target=self._read, args=(loop,), daemon=True, name=f"serial {self.port}"
        )
        self._thread.start()

    def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        buffer = b""
        port = self._serial
        assert port is not None
        while not self._closing.is_set():
            try:
                chunk = port.read(port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError):
                break
            if not chunk:
                continue
            buffer += chunk
            while b"\n" in buffer:
                raw, buffer = buffer.split(b"\n", 1)
                text = raw.decode("ascii", errors="replace").strip()
                if text:
                    loop.call_soon_threadsafe(self.lines.put_nowait, text)
        if not self._closing.is_set():
            loop.call_soon_threadsafe(self.lines.put_nowait, None)  # the port went away

    async def write(self, data: bytes) -> None:
        """Write without blocking the event loop: straight to the non-blocking descriptor when the
        kernel takes it all (the usual case: a line or two), the rest from a worker thread."""
        port = self._serial
        if port is None:
            raise MachineOffline(Text("Port série fermé.", "Serial port closed."))
        try:
            rest = self._write_fast(port, data)
            if rest:

                def send() -> None:
                    with self._write_lock:
                        port.write(rest)

                self._backlog += 1  # later writes queue behind this one: bytes never reorder
                try:
                    await asyncio.to_thread(send)
                finally:
                    self._backlog -= 1
        except (serial.SerialException, OSError) as exc:
            raise MachineOffline(
                Text(
                    f"Machine déconnectée ({self.port}) : {exc}", f"Machine disconnected ({self.port}): {exc}"
                )
            ) from None

    def _write_fast(self, port: serial.Serial, data: bytes) -> bytes:
        """What is left after a non-blocking write (pyserial opens POSIX ports with O_NONBLOCK)."""
        fd = getattr(port, "fd", None)
        if self._backlog or not isinstance(fd, int) or not self._write_lock.acquire(blocking=False):
            return data
        try:
            return data[os.write(fd, data) :]
        except BlockingIOError:
            return data
        finally:
            self._write_lock.release()

    def write_now(self, data: bytes) -> None:
        """Real-time bytes (GRBL `!` `~` `?` 0x18, Marlin M112) skip the queue and go out at once."""
        port = self._serial
        if port is not None:
            with self._write_lock, contextlib.suppress(serial.SerialException, OSError):
                port.write(data)

    async def close(self) -> None:
        self._closing.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 2)
        if self._serial is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                self._serial.close()
        self._serial = None


class SerialDriver(Driver):
    """What the Marlin and Grbl drivers share: open the link, read it in a task, shake hands in time."""

    firmware = "firmware"
    link_type: type[SerialLink] = SerialLink

    def __init__(self, port: str, baud: int, connect_timeout: float) -> None:
        super().__init__()
        self.port, self.baud, self.connect_timeout = port, baud, connect_timeout
        self.link: SerialLink | None = None
        self._reader: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self.link = self.link_type(self.port, self.baud)
        await self.link.open()
        self._reader = asyncio.create_task(self._read_loop(), name=f"{self.kind} reader {self.port}")
        try:
            await asyncio.wait_for(self._handshake(), self.connect_timeout)
        except TimeoutError:
            await self.disconnect()
            raise MachineTimeout(
                Text(
                    f"Pas de réponse {self.firmware} sur {self.port} ({self.baud} bauds).",
                    f"No {self.firmware} answer on {self.port} ({self.baud} baud).",
                )
            ) from None
        self._connected()

    @abc.abstractmethod
    async def _read_loop(self) -> None:
        """Consume `self.link.lines` for as long as the port is open."""

    @abc.abstractmethod
    async def _handshake(self) -> None:
        """Prove the firmware is there and learn what it can do."""

    def _connected(self) -> None:
        """Called once the handshake succeeded."""
