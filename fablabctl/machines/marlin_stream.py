"""The state of a Marlin line stream: what is in flight, what to resend, when to give up. No I/O.

Job lines may go out ahead (`room`, `send_ahead`): up to `window` lines in flight (default 3, Marlin's
BUFSIZE 4 minus one), never more bytes unacknowledged than the firmware's receive buffer holds, and only
in a quiet stream; anything unusual (a resend, a timeout, a long-running command) goes back to one line
at a time (OctoPrint's default, `ok_buffer_size = 1`), which is what the rest of this text describes.
When a resend is asked for while lines were in flight, the lines behind the garbled one are refused or
dropped by the firmware: the resend waits `ok_grace` for their answers (swallowed), counts the `ok`s
still due to lines taken before it (`_owed`, never taken for the resent line's), then goes out. The firmware's
own line counter is the authority: `Resend: 12` (or `Error:... Last Line: 11`) means "I executed
everything up to 11, nothing after", so sending again from 12 can never run a line twice, and a
request for the line after the one in flight simply acknowledges it. Lines are kept in a history so
a request for an earlier line (an `ok` that belonged to an error and was taken for an
acknowledgement) is answered from it; a request for a line never sent fails the stream, as in
OctoPrint: the two counters disagree and nothing can be trusted.

Marlin answers a garbled line with `Error:<what>, Last Line: 11`, `Resend: 12` and `ok`. That `ok`
belongs to the request, not to a line: it is the go-ahead for the resend, and is never counted as an
acknowledgement. A firmware that prints no `ok` there (Marlin 2.0.9) or no `Resend:` at all (Marlin
1.x/Prusa `No Line Number with checksum`) is answered at its next line of any kind (`wait`, a report)
or after `ok_grace`. A request repeated for the line already being resent (Repetier, OctoPrint's
virtual printer) is ignored together with its `ok`.

Timing: the acknowledgement deadline is set when a line is written and is not reset by `wait`,
temperature reports or `echo:` lines (a firmware that lost the line goes on printing those, forever);
`busy:` extends it, and so do temperature reports while the line is a heat-and-wait command (Marlin
waits for M109/M190 without `busy:`, printing the temperature instead). Commands that may legitimately
run for minutes without a word from older firmwares (homing, probing, heating, dwell, M400) get
`long_timeout` instead of `ok_timeout`, as OctoPrint exempts its "long running commands". At the
deadline the line is written once more; at the second deadline the stream fails with the cause.

The driver calls `submit` for each command, `feed` for each classified firmware line and `tick` when
`wake_at` passes, and carries out the returned actions (`Write`, `Done`, `Failed`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from fablabctl.i18n import Text
from fablabctl.machines.marlin_protocol import Reply, ReplyKind, numbered

HISTORY = 256  # lines kept for resends; with one line in flight the firmware asks for the last few
OK_GRACE = 0.15  # seconds to wait for the `ok` that follows `Resend:` before resending anyway
MAX_REQUESTS = 12  # resend requests in a row without progress: the link is too noisy to go on
HEAT_AND_WAIT = frozenset({"M109", "M190", "M191", "M116"})
LONG_RUNNING = HEAT_AND_WAIT | {"G4", "G28", "G29", "G30", "G32", "G33", "G34", "M400", "M226", "M600"}
LONG_TIMEOUT = 180.0
WINDOW = 3  # lines in flight at most: Marlin's BUFSIZE (4) - 1, as OctoPrint and Printrun advise
RX_BUFFER = 128  # bytes: Marlin's RX_BUFFER_SIZE default; unacknowledged lines never exceed it


@dataclass(frozen=True, slots=True)
class Write:
    """Write this numbered line to the firmware (`again`: it was written before)."""

    number: int
    command: str
    again: bool = False


@dataclass(frozen=True, slots=True)
class Done:
    """Everything up to `number` (the last submitted line) is acknowledged."""

    number: int


@dataclass(frozen=True, slots=True)
class Acked:
    """Line `number` is acknowledged and later lines are still in flight: room for one more."""

    number: int


@dataclass(frozen=True, slots=True)
class Failed:
    """The stream cannot go on: `code` is stable, `reason` says why in French and English."""

    code: str
    reason: Text


Action = Write | Done | Acked | Failed


class LineFlow:
    def __init__(
        self,
        *,
        ok_timeout: float,
        long_timeout: float = LONG_TIMEOUT,
        history: int = HISTORY,
        ok_grace: float = OK_GRACE,
        max_requests: int = MAX_REQUESTS,
        window: int = 1,
        rx_buffer: int = RX_BUFFER,
    ) -> None:
        self.ok_timeout, self.history_size = ok_timeout, history
        self.window, self.rx_buffer = max(1, window), rx_buffer
        self.ahead: deque[int] = deque()  # lines written after `sending`, oldest first
        self._owed = 0  # `ok`s still due for lines the firmware took before it asked for a resend
        self._stale = 0  # errors still to come about lines that were in flight behind a garbled one
        self._settling = False  # a resend waits for the answers to the lines that were behind it
        self._settle_ok = False  # the next `ok` belongs to a refused line's request
        self.deepest = 1  # most lines in flight at once, for tests and benchmarks
        self.long_timeout = max(ok_timeout, long_timeout)
        self.ok_grace, self.max_requests = ok_grace, max_requests
        self.history: dict[int, str] = {}
        self._encoded: dict[int, bytes] = {}  # the bytes written for a line of the history, made once
        self._next: tuple[int, str, bytes] | None = None  # the line `room` last measured, for `send_ahead`
        self.top = 0  # last submitted line number
        self.acked = 0  # the firmware has confirmed every line up to this one
        self.sending: int | None = None  # the line on the wire, awaiting its `ok`
        self.deadline = 0.0
        self.resends = 0  # lines written again (requests and timeouts), for statistics and tests
        self._pending: int | None = None  # a resend request waiting for its `ok` (or the grace)
        self._grace_until: float | None = None
        self._swallow_ok = False  # the next line, if `ok`, belongs to a resend request already handled
        self._again: int | None = None  # the line on the wire was written in answer to a request
        self._timed_out: int | None = None  # the line already written again after a timeout
        self._requests = 0  # requests in a row without progress
        self._best = 0  # highest line ever acknowledged
        self._heating = False
        self._waited = ok_timeout  # the timeout of the line on the wire

    # ------------------------------------------------------------------ the driver's side

    @property
    def busy(self) -> bool:
        return self.sending is not None

    def submit(self, command: str, now: float, *, number: int | None = None) -> Write:
        """The next command to stream; `number` restarts the numbering (M110 N0 goes out as line 0)."""
        if self.sending is not None:
            raise RuntimeError("a line is still in flight")
        if number is not None:
            self.history.clear()
            self._encoded.clear()
            self.top, self.acked, self._best = number, number - 1, number - 1
        else:
            self.top += 1
        self._remember(command)
        self._timed_out, self._requests = None, 0
        self._owed = self._stale = 0
        return self._write(self.top, now, again=False)

    def room(self, command: str) -> bool:
        """May `command` go out now, while earlier lines still wait for their `ok` (`send_ahead`)?

        Only in a quiet stream (no resend, timeout or catching up under way), never next to a
        command that may run for minutes, and only while the unacknowledged lines fit in the
        firmware's receive buffer: the firmware never has to drop a byte."""
        if self.sending is None:
            return True
        if (
            self.window <= 1
            or len(self.ahead) + 1 >= self.window
            or self.acked + 1 != self.sending
            or self._pending is not None
            or self._again is not None
            or self._timed_out is not None
            or self._swallow_ok
            or self._owed
            or _word(command) in LONG_RUNNING
            or self._waited != self.ok_timeout
        ):
            return False
        in_flight = len(self.encoded(self.sending)) + sum(len(self.encoded(n)) for n in self.ahead)
        data = encode(self.top + 1, command)
        self._next = (self.top + 1, command, data)
        return in_flight + len(data) <= self.rx_buffer

    def send_ahead(self, command: str) -> Write:
        """The next line, written while earlier ones wait for their `ok` (check `room` first)."""
        self.top += 1
        self._remember(command)
        self.ahead.append(self.top)
        self.deepest = max(self.deepest, len(self.ahead) + 1)
        return Write(self.top, command)

    def encoded(self, number: int) -> bytes:
        """The bytes to write for line `number` of the history: `N<n> <command>*<checksum>\\n`."""
        data = self._encoded.get(number)
        if data is None:
            data = self._encoded[number] = encode(number, self.history[number])
        return data

    def _remember(self, command: str) -> None:
        """Line `top` is `command`, kept for resends; the oldest line leaves the history."""
        top, old = self.top, self.top - self.history_size
        self.history[top] = command
        self.history.pop(old, None)
        self._encoded.pop(old, None)
        if self._next is not None and self._next[0] == top and self._next[1] == command:
            self._encoded[top] = self._next[2]  # measured by `room` already
        self._next = None

    def abandon(self) -> None:
        """Forget the lines in flight (the job failed or was given up)."""
        self.sending, self._pending, self._grace_until = None, None, None
        self._swallow_ok = False
        self.ahead.clear()
        self._owed = self._stale = 0

    def wake_at(self) -> float | None:
        """When `tick` must run if no firmware line arrives before."""
        if self.sending is None:
            return None
        if self._grace_until is not None:
            return min(self._grace_until, self.deadline)
        return self.deadline

    def tick(self, now: float) -> list[Action]:
        if self.sending is None:
            return []
        if self._pending is not None and self._grace_until is not None and now >= self._grace_until:
            return self._honour(now)
        if now < self.deadline:
            return []
        if self._timed_out == self.sending:
            waited = round(2 * self._waited)
            return [
                Failed(
                    "MARLIN_NO_ACK",
                    Text(
                        f"L'imprimante n'a pas accusé réception de la ligne {self.sending} "
                        f"(« {self.history.get(self.sending, '')} ») en {waited} s, même après un renvoi.",
                        f"The printer did not acknowledge line {self.sending} "
                        f"(“{self.history.get(self.sending, '')}”) within {waited} s, even after a resend.",
                    ),
                )
            ]
        self._timed_out = self.sending
        self.ahead.clear()  # written again one by one once the oldest is through
        self._owed = self._stale = 0  # the firmware's answer to this line says more than lost `ok`s
        return [self._write(self.sending, now, again=True)]

    # ------------------------------------------------------------------ the firmware's side

    def feed(self, reply: Reply, now: float) -> list[Action]:
        """One classified firmware line; returns what to do about it."""
        kind = reply.kind
        swallow, self._swallow_ok = self._swallow_ok, False
        if self.sending is None:
            return []  # late replies after a job ended or failed: nothing waits for them
        if kind is ReplyKind.FATAL and reply.fatal is not None:
            return [Failed(reply.fatal.code, reply.fatal.reason)]
        if kind is ReplyKind.START:  # the firmware (re)booted: fine while numbering starts, fatal after
            if self.top == 0 and self.sending == 0:
                # M110 was sent while it booted (DTR reset) and is lost, or `start` was already
                # waiting when the port opened and M110's `ok` follows: written again (by `tick`)
                # only if no `ok` comes within `ok_grace`, as two `ok`s would acknowledge line 1 too
                self._timed_out, self.deadline = None, now + self.ok_grace
                return []
            return [_reset()]
        if self._pending is not None:
            return self._while_pending(reply, now)
        if kind is ReplyKind.OK:
            if swallow or (reply.number is not None and reply.number != self.sending):
                return []
            if self._owed:  # the `ok` of a line taken before the request, not of the one resent
                self._owed -= 1
                return []
            return self._ack(now)
        if (
            self._stale
            and kind in (ReplyKind.RESEND, ReplyKind.LINE_ERROR)
            and reply.number in (None, self.sending)
            and self._again == self.sending
        ):  # a line written behind the garbled one reached the firmware after it: already answered
            if kind is ReplyKind.RESEND:
                self._stale -= 1
                self._swallow_ok = True
            return []
        if kind is ReplyKind.RESEND and reply.number is not None:
            if reply.number == self._again == self.sending:
                self._swallow_ok = True  # a repeat of the request we already answered (Repetier)
                return []
            self._request(reply.number, now)
        elif kind is ReplyKind.LINE_ERROR:  # no number: the line on the wire is the garbled one
            self._request(self.sending if reply.number is None else reply.number, now)
        elif kind is ReplyKind.BUSY or (kind is ReplyKind.TEMPERATURE and self._heating):
            self.deadline = max(self.deadline, now + self.ok_timeout)
        return []

    def _while_pending(self, reply: Reply, now: float) -> list[Action]:
        """A resend request is waiting for its `ok`: a `Resend:` after an error refines it; an `ok`
        clears it; anything else means no `ok` is coming, so the line goes out now."""
        kind = reply.kind
        if self._settling:  # answers to the lines that were behind the garbled one: the resend waits
            return self._while_settling(reply)
        if kind is ReplyKind.RESEND and reply.number is not None:
            self._pending = reply.number
            self._grace_until = now + self.ok_grace
            return []
        if kind is ReplyKind.LINE_ERROR:
            if reply.number is not None:
                self._pending = reply.number
            self._grace_until = now + self.ok_grace
            return []
        return self._honour(now)

    def _while_settling(self, reply: Reply) -> list[Action]:
        """Until `ok_grace` passes: each line that was in flight behind the garbled one is refused
        (`Resend:` and its `ok`, swallowed) or was dropped with the firmware's buffer; an `ok` of its
        own belongs to a line taken before the request (`_owed`). The resend then arrives after all
        of them, so no flush of the firmware's buffer can take it away."""
        if reply.kind is ReplyKind.RESEND and reply.number is not None:
            self._pending, self._settle_ok = reply.number, True
        elif reply.kind is ReplyKind.OK:
            if self._settle_ok:
                self._settle_ok = False
            elif self._owed:
                self._owed -= 1
        return []

    def _request(self, number: int, now: float) -> None:
        self._pending = number
        self._grace_until = now + self.ok_grace

    def _honour(self, now: float) -> list[Action]:
        """Act on the pending request: the firmware has everything before `number`, nothing after."""
        number = self._pending
        assert number is not None
        self._pending, self._grace_until, self._settling = None, None, False
        if number > self.top + 1:
            return [
                Failed(
                    "MARLIN_RESEND_UNSENT",
                    Text(
                        f"L'imprimante redemande la ligne {number}, qui n'a jamais été envoyée (dernière "
                        f"envoyée : {self.top}) : son compteur de lignes ne correspond plus au nôtre.",
                        f"The printer asks again for line {number}, which was never sent (last sent: "
                        f"{self.top}): its line counter no longer matches ours.",
                    ),
                )
            ]
        if number <= self.top and number not in self.history:
            return [
                Failed(
                    "MARLIN_RESEND_TOO_OLD",
                    Text(
                        f"L'imprimante redemande la ligne {number}, trop ancienne pour être renvoyée "
                        "(a-t-elle redémarré ?).",
                        f"The printer asks again for line {number}, too old to be resent (did it restart?).",
                    ),
                )
            ]
        if self.ahead:  # lines were in flight behind the garbled one: let their answers come in first
            self._owed = max(0, number - self.sending) if self.sending is not None else 0
            self.ahead.clear()  # the rest go out again one by one, from the history
            self._pending, self._grace_until, self._settling = number, now + self.ok_grace, True
            return []
        self._requests += 1
        if self._requests > self.max_requests:
            return [
                Failed(
                    "MARLIN_LINK_NOISE",
                    Text(
                        f"L'imprimante a redemandé {self._requests - 1} fois de suite la ligne {number} : "
                        "la liaison série est trop perturbée (câble, vitesse, alimentation ?).",
                        f"The printer asked {self._requests - 1} times in a row for line {number}: the "
                        "serial link is too noisy (cable, baud rate, power supply?).",
                    ),
                )
            ]
        self._stale = 0
        self.acked = number - 1
        self._swallow_ok = False
        if self.acked >= self.top:  # it had the line in flight already: that was its acknowledgement
            return self._done()
        return [self._write(number, now, again=True)]

    def _ack(self, now: float) -> list[Action]:
        assert self.sending is not None
        self.acked = self.sending
        if self.acked > self._best:
            self._best, self._requests = self.acked, 0
        self._stale = 0  # the line resent is through: what follows is about new lines
        if self.ahead:  # the next line is already on the wire: it is now the one awaited
            number = self.ahead.popleft()
            self.sending, self._waited = number, self.ok_timeout
            self.deadline = now + self.ok_timeout
            return [Acked(self.acked)]
        if self.acked < self.top:  # catching up after a request for an earlier line
            return [self._write(self.acked + 1, now, again=True)]
        return self._done()

    def _done(self) -> list[Action]:
        self.sending, self._again, self._timed_out = None, None, None
        self._owed = self._stale = 0
        self.acked = self.top
        self._best = max(self._best, self.top)
        return [Done(self.top)]

    def _write(self, number: int, now: float, *, again: bool) -> Write:
        command = self.history[number]
        word = _word(command)
        self.sending = number
        self._waited = self.long_timeout if word in LONG_RUNNING else self.ok_timeout
        self.deadline = now + self._waited
        self._again = number if again else None
        self._heating = word in HEAT_AND_WAIT
        if again:
            self.resends += 1
        return Write(number, command, again)


def encode(number: int, command: str) -> bytes:
    """The line as written to the firmware; non-ASCII characters go out as `?`, as they are checksummed."""
    return (numbered(number, command) + "\n").encode("ascii", errors="replace")


def _word(command: str) -> str:
    return command.split(maxsplit=1)[0].upper() if command else ""


def _reset() -> Failed:
    return Failed(
        "MARLIN_RESTARTED",
        Text(
            "L'imprimante a redémarré pendant le travail (coupure, bouton reset ?) : le travail est perdu.",
            "The printer restarted during the job (power cut, reset button?): the job is lost.",
        ),
    )
