"""The safety policy, once more, inside the driver: each job line is checked just before it is written.

Validation already ran the same `LinePolicy` on upload and after preparation; this last gate stops
what changed since (a G-code file edited on disk, a slicer profile with a bad start script, a bug in
our own generator) BEFORE the machine sees the line. The driver then leaves the machine safe
(heaters off, laser off) and fails the job with `GCODE_REFUSED_BY_POLICY`.

Commands the drivers send on their own (handshake, temperature polling, park, cool-down, `$$`,
`$X` at the operator's request, M112 / 0x18 emergency stops) never come from a job file: they are
constants of the drivers, and Grbl's `system()` accepts only `OPERATOR_GRBL`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fablabctl.i18n import Text
from fablabctl.specs import MachineSpec
from fablabctl.validation.gcode_policy import LinePolicy, Refusal

REFUSED_CODE = "GCODE_REFUSED_BY_POLICY"
# what an operator (or the driver itself) may send to Grbl outside a job: reads, unlock, check mode,
# homing, and the laser off; never a setting, a startup line or a jog
OPERATOR_GRBL = frozenset({"$$", "$X", "$C", "$I", "$G", "$#", "$H", "M5"})


def refused_text(refusal: Refusal, machine: str) -> Text:
    """What the operator reads: which line, why, and that nothing of it reached the machine."""
    return Text(
        f"G-code refusé par la politique de sécurité de {machine}, avant envoi à la machine. "
        f"{refusal.message.fr} Le travail est arrêté et la machine mise en sécurité.",
        f"G-code refused by {machine}'s safety policy, before it reached the machine. "
        f"{refusal.message.en} The job is stopped and the machine made safe.",
    )


def source_numbers(path: Path, clean: Callable[[str], str] | None = None) -> list[int]:
    """The file line number of each streamed command, read by the same rule as `base.job_lines`."""
    numbers = []
    with path.open("r", encoding="utf-8", errors="replace") as stream:
        for number, raw in enumerate(stream, start=1):
            line = raw.split(";", 1)[0].strip()
            if line and (clean is None or clean(line)):
                numbers.append(number)
    return numbers


class PolicyGate:
    """One per driver. `begin` at each job start (modal state starts clean), `refusal` per line."""

    def __init__(self, spec: MachineSpec) -> None:
        self.spec = spec
        self._policy = LinePolicy(spec)
        self._numbers: list[int] = []

    def begin(
        self, path: Path | None = None, *, count: int = 0, clean: Callable[[str], str] | None = None
    ) -> None:
        """A new job: `path` and `count` (lines to stream) let messages name the file's own line."""
        self._policy = LinePolicy(self.spec)
        numbers = source_numbers(path, clean) if path is not None else []
        self._numbers = numbers if len(numbers) == count else []

    def refusal(self, line: str, index: int) -> Text | None:
        """None when the `index`-th streamed line (from 1) may be sent; else the reason, for people."""
        number = self._numbers[index - 1] if 0 < index <= len(self._numbers) else index
        refusal = self._policy.check(line, number).refusal
        return None if refusal is None else refused_text(refusal, self.spec.name)

    def file_refusal(self, data: bytes) -> Text | None:
        """The whole exact bytes about to be handed over (OctoPrint upload): the first refused line."""
        policy = LinePolicy(self.spec)
        for number, raw in enumerate(data.split(b"\n"), start=1):
            if b"\x00" in raw:
                return Text(
                    f"Ligne {number} : données binaires dans le G-code ; rien n'a été envoyé.",
                    f"Line {number}: binary data in the G-code; nothing was sent.",
                )
            refusal = policy.check(raw.decode("utf-8", errors="replace"), number).refusal
            if refusal is not None:
                return refused_text(refusal, self.spec.name)
        return None


def operator_command_allowed(command: str) -> bool:
    """Only the narrow list, in plain ASCII (a U+1680 that `strip` hides would still go out as 0x9A)."""
    return command.isascii() and command.strip().upper() in OPERATOR_GRBL
