"""The Marlin driver against a simulated firmware that garbles, loses, repeats and halts.

Each test checks the firmware's own record (`sim.numbered`, what it EXECUTED with its line number):
every line of the file exactly once and in order, or a clean failure with its cause. Every job is
bounded by `asyncio.wait_for` (in `run_job`) and fails with a clear message rather than hang.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from fablabctl.machines.base import EventKind, MachineEvent, MachineState
from fablabctl.machines.marlin import MarlinDriver
from fablabctl.machines.marlin_protocol import checksum
from fablabctl.machines.marlin_stream import WINDOW, encode
from fablabctl.machines.sim.marlin_faults import FATAL_LINES, MarlinFaults, random_faults
from fablabctl.machines.sim.marlin_sim import MarlinSimulator
from fablabctl.specs import DEFAULT_PRINTER
from fablabctl.validation.gcode_policy import LinePolicy
from tests.machines.helpers import gcode_file, run_job

FAST = 0.4  # acknowledgement timeout for jobs whose faults need it (lost lines, lost oks)


def job_ran(sim: MarlinSimulator) -> list[tuple[int, str]]:
    """What the firmware executed of the job: the numbered lines after the job's own `M110 N0`."""
    start = max(i for i, (_, command) in enumerate(sim.numbered) if command.startswith("M110"))
    return sim.numbered[start + 1 :]


def once_in_order(commands: list[str]) -> list[tuple[int, str]]:
    return list(enumerate(commands, start=1))


async def streamed(
    tmp_path: Path,
    lines: int,
    sim_options: dict[str, Any],
    *,
    ok_timeout: float = 5.0,
    bound: float = 60,
    window: int = WINDOW,
) -> tuple[MachineEvent, MarlinSimulator, MarlinDriver, list[str]]:
    path, expected = gcode_file(tmp_path / "job.gcode", lines)
    sim = MarlinSimulator(**sim_options)
    sim.start()
    driver = MarlinDriver(sim.port, 115200, ok_timeout=ok_timeout, window=window)
    try:
        await driver.connect()
        try:
            end, _ = await run_job(driver, path, timeout=bound)
        except TimeoutError:
            raise AssertionError(f"the job did not end within {bound} s: the stream hangs") from None
        return end, sim, driver, expected
    finally:
        await driver.disconnect()
        sim.stop()


ERROR_KINDS = [
    "corrupt_lines",
    "no_checksum_lines",
    "bad_number_lines",
    "silent_error_lines",
    "duplicate_resend_lines",
    "resend_ahead_lines",
    "drop_ok_after_resend",
]
OTHER_KINDS = ["lost_lines", "drop_ok_lines", "chatter_lines"]
AT = {20, 21, 77, 150}
NO_OK_KINDS = ("corrupt_lines", "silent_error_lines", "duplicate_resend_lines")


def faults_of(kind: str, at: set[int]) -> MarlinFaults:
    faults = MarlinFaults()
    getattr(faults, kind).update(at)
    return faults


CASES = (
    [(kind, "marlin", True, False, WINDOW) for kind in ERROR_KINDS + OTHER_KINDS]
    + [(kind, dialect, True, False, WINDOW) for kind in ERROR_KINDS for dialect in ("virtual", "other")]
    + [(kind, "marlin", False, False, WINDOW) for kind in NO_OK_KINDS]
    + [(k, "marlin", True, True, WINDOW) for k in ("corrupt_lines", "drop_ok_lines", "resend_ahead_lines")]
    # one line at a time (window 1): each line written exactly once more per request, never more
    + [(kind, "marlin", True, False, 1) for kind in ERROR_KINDS]
)


@pytest.mark.parametrize(
    ("kind", "dialect", "ok_after_resend", "advanced_ok", "window"),
    CASES,
    ids=[
        f"{k}-{d}{'' if o else '-no-ok-after-resend'}{'-advanced-ok' if a else ''}-window{w}"
        for k, d, o, a, w in CASES
    ],
)
def test_each_fault_kind_loses_and_repeats_nothing(
    tmp_path: Path, kind: str, dialect: str, ok_after_resend: bool, advanced_ok: bool, window: int
) -> None:
    options = {
        "faults": faults_of(kind, AT),
        "dialect": dialect,
        "ok_after_resend": ok_after_resend,
        "advanced_ok": advanced_ok,
    }
    end, sim, _, expected = asyncio.run(streamed(tmp_path, 200, options, ok_timeout=FAST, window=window))
    assert end.kind is EventKind.JOB_DONE, end
    assert job_ran(sim) == once_in_order(expected)
    if kind not in ("lost_lines", "chatter_lines", "drop_ok_lines", "resend_ahead_lines"):
        assert all(sim.received[n] >= 2 for n in AT), "the faulty lines were sent again"
    if kind == "duplicate_resend_lines":
        # with several lines in flight, a line may also have arrived once behind a garbled one (and
        # been refused by its line number) before it was resent: one arrival more, never two
        most = 2 if window == 1 else 3
        assert all(sim.received[n] <= most for n in AT), "a repeated resend request was answered twice"


@pytest.mark.parametrize(
    "faults",
    [
        MarlinFaults(busy_storm={15: 30}, busy_s={40: 1.5}),
        MarlinFaults(wait_storm={10: 15, 60: 15}),  # 10 ms apart: well within the timeout
        MarlinFaults(chatter_lines=set(range(5, 200, 3)), idle_wait_s=0.05),
    ],
    ids=["busy for longer than the timeout", "wait storm", "reports and echo everywhere"],
)
def test_keep_alives_and_chatter_neither_stall_nor_fool_the_stream(
    tmp_path: Path, faults: MarlinFaults
) -> None:
    end, sim, _, expected = asyncio.run(streamed(tmp_path, 200, {"faults": faults}, ok_timeout=FAST))
    assert end.kind is EventKind.JOB_DONE, end
    assert job_ran(sim) == once_in_order(expected)
    assert sum(sim.received.values()) == len(expected) + 4  # M110, M115, M155, the job's M110: none twice


LONG = 20_000
TIMEOUT_KINDS = ("lost_lines", "drop_ok_lines", "drop_ok_after_resend")  # each costs a timeout


def every_kind(lines: int) -> MarlinFaults:
    """Each recoverable kind many times over the job, at its own lines (kind i at 100 + 41 i + k step)."""
    faults = MarlinFaults()
    for i, kind in enumerate([*ERROR_KINDS, "lost_lines", "drop_ok_lines", "chatter_lines"]):
        step = 4000 if kind in TIMEOUT_KINDS else 1000
        getattr(faults, kind).update(range(100 + 41 * i, lines, step))
    faults.busy_storm.update(dict.fromkeys(range(777, lines, 3000), 3))
    faults.wait_storm.update(dict.fromkeys(range(1555, lines, 3000), 5))
    return faults


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["marlin", "virtual", "other"])
def test_a_20000_line_job_streams_through_every_error_kind(tmp_path: Path, dialect: str) -> None:
    faults = every_kind(LONG)
    options = {"faults": faults, "dialect": dialect}
    end, sim, driver, expected = asyncio.run(streamed(tmp_path, LONG, options, ok_timeout=FAST, bound=300))
    assert end.kind is EventKind.JOB_DONE, end
    assert job_ran(sim) == once_in_order(expected)
    injected = sum(len(getattr(faults, kind)) for kind in ERROR_KINDS if kind != "resend_ahead_lines")
    assert driver.flow.resends >= injected  # every garbled line really went out again


def test_an_error_without_resend_ends_within_the_timeout(tmp_path: Path) -> None:
    """The issue's freeze: `No Line Number with checksum`, no `Resend`, then only `wait` every
    so often and temperature reports. The line goes out again at once; nothing waits for a timeout."""
    faults = MarlinFaults(silent_error_lines={30}, idle_wait_s=0.2, wait_storm={31: 20})
    started = time.monotonic()
    end, sim, _, expected = asyncio.run(
        streamed(tmp_path, 60, {"faults": faults, "report_interval_s": 0.1}, ok_timeout=3.0, bound=20)
    )
    assert end.kind is EventKind.JOB_DONE, end
    assert job_ran(sim) == once_in_order(expected)
    assert time.monotonic() - started < 3.0, "the resend waited for the acknowledgement timeout"


def test_a_firmware_that_stops_listening_fails_the_job_within_twice_the_timeout(tmp_path: Path) -> None:
    """It goes on printing `wait` and temperatures, which must not keep the job alive."""
    faults = MarlinFaults(deaf_at_line=40, idle_wait_s=0.1)

    async def scenario() -> None:
        path, _ = gcode_file(tmp_path / "job.gcode", 100)
        with MarlinSimulator(faults=faults) as sim:
            driver = MarlinDriver(sim.port, 115200, ok_timeout=1.0, poll_s=1)
            await driver.connect()
            started = time.monotonic()
            end, events = await run_job(driver, path, timeout=10)
            assert end.kind is EventKind.JOB_FAILED and end.data["code"] == "MARLIN_NO_ACK", end
            assert 2.0 <= time.monotonic() - started < 4.0
            assert "ligne 40" in end.data["reason_fr"] and end.data["done"] == 39
            assert any(e.kind is EventKind.TEMPERATURE for e in events[-10:])  # it was still talking
            assert (await driver.status()).state is MachineState.IDLE  # the machine is released
            assert driver.flow.resends == 1  # written once more after the first timeout, not more
            await driver.disconnect()

    asyncio.run(scenario())


def test_a_resend_request_for_a_line_never_sent_fails_cleanly_and_frees_the_machine(tmp_path: Path) -> None:
    async def scenario() -> None:
        path, expected = gcode_file(tmp_path / "job.gcode", 100)
        with MarlinSimulator(faults=MarlinFaults(bogus_resend_lines={50})) as sim:
            driver = MarlinDriver(sim.port, 115200, ok_timeout=1.0)
            await driver.connect()
            end, _ = await run_job(driver, path, timeout=10)
            assert end.kind is EventKind.JOB_FAILED and end.data["code"] == "MARLIN_RESEND_UNSENT", end
            assert "150" in end.data["reason_fr"]
            assert job_ran(sim) == once_in_order(expected)[: len(job_ran(sim))]  # nothing twice, in order
            assert (await driver.status()).state is MachineState.IDLE
            end, _ = await run_job(driver, path, timeout=10)  # the next job starts from a clean count
            assert end.kind is EventKind.JOB_DONE, end
            assert job_ran(sim) == once_in_order(expected)
            await driver.disconnect()

    asyncio.run(scenario())


def test_a_printer_that_restarts_mid_job_fails_it_and_says_so(tmp_path: Path) -> None:
    async def scenario() -> None:
        path, _ = gcode_file(tmp_path / "job.gcode", 100)
        with MarlinSimulator(faults=MarlinFaults(reboot_at_line=30)) as sim:
            driver = MarlinDriver(sim.port, 115200, ok_timeout=2.0)
            await driver.connect()
            end, _ = await run_job(driver, path, timeout=10)
            assert end.kind is EventKind.JOB_FAILED and end.data["code"] == "MARLIN_RESTARTED", end
            assert "redémarré" in end.data["reason_fr"] and end.data["done"] == 29
            assert len(job_ran(sim)) == 29
            await driver.disconnect()

    asyncio.run(scenario())


@pytest.mark.parametrize("fatal", sorted(FATAL_LINES))
def test_a_fatal_firmware_error_fails_the_job_at_once_with_a_french_explanation(
    tmp_path: Path, fatal: str
) -> None:
    async def scenario() -> None:
        path, _ = gcode_file(tmp_path / "job.gcode", 200)
        with MarlinSimulator(faults=MarlinFaults(fatal={60: fatal})) as sim:
            driver = MarlinDriver(sim.port, 115200, ok_timeout=10)
            await driver.connect()
            started = time.monotonic()
            end, events = await run_job(driver, path, timeout=10)
            assert time.monotonic() - started < 5, "a fatal error waited for a timeout"
            assert end.kind is EventKind.JOB_FAILED, end
            assert (
                end.data["code"]
                == {
                    "thermal_runaway": "MARLIN_THERMAL_RUNAWAY",
                    "maxtemp": "MARLIN_MAXTEMP",
                    "mintemp": "MARLIN_MINTEMP",
                    "heating_failed": "MARLIN_HEATING_FAILED",
                    "halted": "MARLIN_HALTED",
                }[fatal]
            )
            assert FATAL_LINES[fatal] in end.data["reason_fr"]
            assert end.data["reason_fr"].startswith("L'imprimante s'est arrêtée")
            assert end.data["done"] == 59
            assert (await driver.status()).state is MachineState.ERROR
            assert any(e.kind is EventKind.ERROR for e in events)
            await driver.disconnect()

    asyncio.run(scenario())


def test_a_command_too_long_for_marlins_line_buffer_is_refused_before_it_could_loop_on_resends(
    tmp_path: Path,
) -> None:
    """Marlin keeps 95 bytes of a line: a longer one loses its `*checksum` and is asked for again and
    again. The policy refuses such a command (82 characters at most, room for `N1234567 ` and `*123`),
    and the simulator cuts lines as Marlin does: an 82-character command at line 9,999,999 still fits."""
    longest = "M117 " + "x" * 77
    assert LinePolicy(DEFAULT_PRINTER).check(longest, 1).ok
    assert not LinePolicy(DEFAULT_PRINTER).check(longest + "x", 1).ok

    async def scenario() -> None:
        with MarlinSimulator() as sim:
            driver = MarlinDriver(sim.port, 115200, ok_timeout=1.0)
            await driver.connect()
            assert driver.link is not None
            async with driver.subscribe() as events:
                sim.last_line = 9_999_998
                await driver.link.write(encode(9_999_999, longest))  # 95 bytes: read whole
                deadline = time.monotonic() + 5
                while sim.numbered[-1] != (9_999_999, longest):
                    assert time.monotonic() < deadline, sim.numbered[-3:]
                    await asyncio.sleep(0.02)
                await driver.link.write(encode(10_000_000, longest + "x" * 9))  # cut: no checksum left

                async def error() -> str:
                    async for event in events:
                        if event.kind is EventKind.MESSAGE and "No Checksum" in event.data["text"]:
                            return str(event.data["text"])
                    raise AssertionError("event stream ended")

                assert "Last Line: 9999999" in await asyncio.wait_for(error(), 5)
            assert sim.received[10_000_000] == 1 and sim.last_line == 9_999_999
            await driver.disconnect()

    asyncio.run(scenario())


def test_a_file_with_its_own_line_numbers_and_checksums_is_executed_line_for_line(tmp_path: Path) -> None:
    """Some hosts save G-code as they sent it (`N12 G1 X5*87`): the driver numbers each line itself, so
    the file's own `N` and `*` go (Marlin would read `N3 N12 G1…` as an unknown command and skip it)."""
    commands = ["G28", "M104 S200", *(f"G1 X{i} Y{i} F3000" for i in range(1, 30)), "M104 S0"]
    numbered = [f"N{i} {c}" for i, c in enumerate(commands, start=10)]
    path = tmp_path / "saved-by-a-host.gcode"
    path.write_text("\n".join(f"{line}*{checksum(line)}" for line in numbered) + "\nN99 M400\n")

    async def scenario() -> None:
        with MarlinSimulator() as sim:
            driver = MarlinDriver(sim.port, 115200)
            await driver.connect()
            end, _ = await run_job(driver, path)
            assert end.kind is EventKind.JOB_DONE, end
            assert [c for c in sim.executed if c in commands or c == "M400"][-len(commands) - 1 :] == [
                *commands,
                "M400",
            ]
            assert not any(c.startswith("N") for c in sim.executed)
            await driver.disconnect()

    asyncio.run(scenario())


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_long_randomized_run_executes_every_line_once_in_order(tmp_path: Path, seed: int) -> None:
    lines = 2500
    faults = random_faults(seed, lines, rate=0.01)
    faults.idle_wait_s = 0.3
    dialect = ("marlin", "virtual", "other")[seed % 3]
    options = {"faults": faults, "dialect": dialect, "report_interval_s": 0.2, "ok_after_resend": seed != 2}
    end, sim, _, expected = asyncio.run(streamed(tmp_path, lines, options, ok_timeout=FAST, bound=120))
    ran = job_ran(sim)
    if end.kind is EventKind.JOB_FAILED:  # allowed only as a clean failure naming its cause
        assert end.data["code"].startswith("MARLIN_") and end.data["reason_fr"], end
        assert ran == once_in_order(expected)[: len(ran)]
        pytest.fail(f"seed {seed}: the job failed: {end.data['reason']}")
    assert end.kind is EventKind.JOB_DONE, end
    assert ran == once_in_order(expected)
