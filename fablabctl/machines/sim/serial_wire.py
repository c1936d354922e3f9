"""A UART between host and firmware at a given speed, both directions at once (full duplex).

Why not sleep for each read and write (`PtyPort(bytes_per_s)`)? Those sleeps run in the firmware's
one thread, so a reply being sent held up the line being received: a half-duplex link, slower than a
real UART, whose transmit and receive wires are independent. Here each byte the host writes finishes
arriving `1 / bytes_per_s` after the previous one (`arrived` hands the firmware what is there by now,
whatever it was doing meanwhile), and replies leave through their own thread at the same pace. Time
is absolute: a late wake-up of the simulator delays its work, never the wire.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque

from fablabctl.machines.sim.pty_port import PtyPort


class SerialWire:
    def __init__(self, pty: PtyPort, bytes_per_s: float) -> None:
        self.pty, self.bytes_per_s = pty, bytes_per_s
        self._incoming: deque[tuple[float, bytes]] = deque()  # (when its first byte arrives, bytes)
        self._rx_clock = 0.0  # when the last byte on the host-to-firmware wire finishes arriving
        self._tx_clock = 0.0  # same, firmware to host
        self._tx_lock = threading.Lock()  # replies come from the firmware loop and from `start`
        self._outgoing: queue.SimpleQueue[tuple[float, bytes] | None] = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send_loop, daemon=True, name="wire tx")
        self._sender.start()

    # ------------------------------------------------------------------ host to firmware

    def receive(self, chunk: bytes, now: float) -> None:
        """Bytes the host has just written: they cross the wire one after the other from now on."""
        if chunk:
            start = max(self._rx_clock, now)
            self._incoming.append((start, chunk))
            self._rx_clock = start + len(chunk) / self.bytes_per_s

    def arrived(self, now: float) -> bytes:
        """The bytes that finished arriving by `now`, in order."""
        out = b""
        while self._incoming:
            start, data = self._incoming[0]
            count = min(len(data), int((now - start) * self.bytes_per_s + 1e-9))
            if count <= 0:
                break
            out += data[:count]
            if count == len(data):
                self._incoming.popleft()
            else:
                self._incoming[0] = (start + count / self.bytes_per_s, data[count:])
                break
        return out

    def next_line_at(self) -> float | None:
        """When the next end of line on the wire finishes arriving (None: no line under way)."""
        for start, data in self._incoming:
            index = data.find(b"\n")
            if index >= 0:
                return start + (index + 1) / self.bytes_per_s
        return None

    @property
    def busy(self) -> bool:
        return bool(self._incoming)

    # ------------------------------------------------------------------ firmware to host

    def send(self, data: bytes) -> None:
        """A reply: it reaches the host once its last byte has crossed the wire."""
        with self._tx_lock:
            self._tx_clock = max(self._tx_clock, time.monotonic()) + len(data) / self.bytes_per_s
            self._outgoing.put((self._tx_clock, data))

    def _send_loop(self) -> None:
        while (item := self._outgoing.get()) is not None:
            due, data = item
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.pty.write(data)

    def close(self) -> None:
        self._outgoing.put(None)
