"""The OctoPrint driver against a real OctoPrint server and its virtual printer.

The virtual printer injects resend and checksum errors around lines 100-115 by default: they stay
on, since OctoPrint must survive them and our driver must not notice.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from fablabctl.machines.base import EventKind, MachineError, MachineEvent, MachineState
from fablabctl.machines.octoprint import OctoPrintDriver
from tests.machines.helpers import run_job
from tests.machines.octoprint_server import OctoPrintServer
from tests.postgres_server import free_port


def gcode_file(path: Path, moves: int, header: str = "") -> tuple[Path, None]:
    """Tiny moves: OctoPrint's virtual printer takes the time real motion would."""
    body = "\n".join(f"G1 X{10 + (i % 2) * 0.05:.2f} Y10 F6000" for i in range(moves))
    path.write_text(header + "G90\n" + body + "\n")
    return path, None


def driver_for(server: OctoPrintServer, **kwargs: float) -> OctoPrintDriver:
    return OctoPrintDriver(server.url, server.api_key, port="VIRTUAL", poll_s=0.3, **kwargs)  # type: ignore[arg-type]


def test_upload_print_and_finish(octoprint: OctoPrintServer, tmp_path: Path) -> None:
    path, _ = gcode_file(tmp_path / "cube.gcode", 150, header="M104 S200\nM140 S60\nG28\n")

    async def scenario() -> None:
        driver = driver_for(octoprint)
        await driver.connect()
        assert driver.version.startswith("1.11")
        assert (await driver.status()).state is MachineState.IDLE
        end, events = await run_job(driver, path, timeout=120)
        assert end.kind is EventKind.JOB_DONE, end
        assert any(e.kind is EventKind.PROGRESS for e in events)
        for _ in range(40):  # OctoPrint asks the printer for temperatures every few seconds
            status = await driver.status()
            if "hotend" in status.temperatures and status.temperatures["hotend"].target == 200:
                break
            await asyncio.sleep(0.25)
        assert status.temperatures["hotend"].target == 200
        assert status.job == "cube.gcode"
        await driver.disconnect()

    asyncio.run(scenario())


def test_pause_resume_then_cancel(octoprint: OctoPrintServer, tmp_path: Path) -> None:
    path, _ = gcode_file(tmp_path / "long.gcode", 3000)

    async def scenario() -> None:
        driver = driver_for(octoprint)
        await driver.connect()
        async with driver.subscribe() as events:
            await driver.start(path)
            await asyncio.sleep(1.0)
            await driver.pause()
            for _ in range(40):
                if (await driver.status()).state is MachineState.PAUSED:
                    break
                await asyncio.sleep(0.25)
            assert (await driver.status()).state is MachineState.PAUSED
            await driver.resume()
            await asyncio.sleep(0.5)
            await driver.cancel()
            async for event in events:
                if event.kind is EventKind.JOB_CANCELLED:
                    assert event.data["by"] == "fablabctl"
                    break
                assert event.kind not in (EventKind.JOB_DONE, EventKind.JOB_FAILED)
        await driver.disconnect()

    asyncio.run(scenario())


def test_our_restart_reattaches_to_the_running_print(octoprint: OctoPrintServer, tmp_path: Path) -> None:
    path, _ = gcode_file(tmp_path / "reattach.gcode", 800)

    async def scenario() -> None:
        first = driver_for(octoprint)
        await first.connect()
        await first.start(path)
        await asyncio.sleep(1.0)
        await first.disconnect()  # our service "crashes"; OctoPrint keeps printing
        second = driver_for(octoprint)
        await second.connect()
        async with second.subscribe() as events:
            assert await second.attach("reattach.gcode")
            assert not await driver_for(octoprint).attach("another.gcode")
            async for event in events:
                if event.kind in (EventKind.JOB_DONE, EventKind.JOB_FAILED, EventKind.JOB_CANCELLED):
                    assert event.kind is EventKind.JOB_DONE
                    break
        await second.disconnect()

    asyncio.run(scenario())


def test_octoprint_restart_mid_job_is_reported(octoprint: OctoPrintServer, tmp_path: Path) -> None:
    path, _ = gcode_file(tmp_path / "lost.gcode", 3000)

    async def scenario() -> None:
        driver = driver_for(octoprint, restart_grace_s=60)
        await driver.connect()
        async with driver.subscribe() as events:
            await driver.start(path)
            await asyncio.sleep(1.0)
            await asyncio.to_thread(octoprint.restart)
            messages = []

            async def until_end() -> None:
                async for event in events:
                    if event.kind is EventKind.MESSAGE:
                        messages.append(event.data["text"])
                    if event.kind in (EventKind.JOB_DONE, EventKind.JOB_FAILED, EventKind.JOB_CANCELLED):
                        assert event.kind is EventKind.JOB_FAILED
                        assert re.search(
                            r"OctoPrint restarted at \d\d:\d\d; the print in progress is lost",
                            event.data["reason"],
                        ), event.data
                        assert "OctoPrint a redémarré à" in event.data["reason_fr"]
                        return

            await asyncio.wait_for(until_end(), 60)
            # the outage is told once when it starts and once when it ends, not at every poll
            assert [m.split(" ")[1] for m in messages] == ["stopped", "answers"], messages
            assert all(m.strip() for m in messages)
        await driver.disconnect()
        again = driver_for(octoprint)
        await again.connect()  # and the next job can connect the printer again
        assert (await again.status()).state is MachineState.IDLE
        await again.disconnect()

    asyncio.run(scenario())


@pytest.mark.slow
def test_a_15_second_outage_mid_print_ends_the_job_cleanly_and_the_next_one_prints(
    octoprint: OctoPrintServer, tmp_path: Path
) -> None:
    """The issue's case: OctoPrint stopped for 12-20 s during a print, then started again. The job
    ends `failed` with the cause once OctoPrint answers (not `running` for ever), the outage is told
    once when it starts and once when it ends, and the printer takes the next job."""
    path, _ = gcode_file(tmp_path / "outage.gcode", 6000)
    short, _ = gcode_file(tmp_path / "after.gcode", 50)

    async def scenario() -> None:
        driver = driver_for(octoprint, restart_grace_s=60)
        await driver.connect()
        messages: list[str] = []
        async with driver.subscribe() as events:
            await driver.start(path)
            await asyncio.sleep(1.0)
            await asyncio.to_thread(octoprint.stop)
            await asyncio.sleep(15)
            await asyncio.to_thread(octoprint.start)

            async def until_end() -> MachineEvent:
                async for event in events:
                    if event.kind is EventKind.MESSAGE:
                        messages.append(event.data["text"])
                    if event.kind in (EventKind.JOB_DONE, EventKind.JOB_FAILED, EventKind.JOB_CANCELLED):
                        return event
                raise AssertionError("event stream ended")

            try:
                end = await asyncio.wait_for(until_end(), 30)
            except TimeoutError:
                raise AssertionError(
                    f"the job still runs 30 s after OctoPrint came back: {messages}"
                ) from None
        assert end.kind is EventKind.JOB_FAILED, end
        assert "OctoPrint a redémarré à" in end.data["reason_fr"] and "perdue" in end.data["reason_fr"]
        assert [m.split(" ")[1] for m in messages] == ["stopped", "answers"], messages
        await driver.disconnect()
        again = driver_for(octoprint)
        await again.connect()
        assert (await again.status()).state is MachineState.IDLE
        done, _ = await run_job(again, short, timeout=60)
        assert done.kind is EventKind.JOB_DONE, done
        await again.disconnect()

    asyncio.run(scenario())


def test_bad_key_is_a_clear_refusal(octoprint: OctoPrintServer) -> None:
    async def scenario() -> None:
        driver = OctoPrintDriver(octoprint.url, "WRONGKEY", port="VIRTUAL")
        with pytest.raises(MachineError) as info:
            await driver.connect()
        assert info.value.code == "OCTOPRINT_BAD_KEY"
        await driver.disconnect()

    asyncio.run(scenario())


def test_printer_not_operational_is_409(octoprint: OctoPrintServer) -> None:
    import httpx

    httpx.post(
        f"{octoprint.url}/api/connection",
        json={"command": "disconnect"},
        headers={"X-Api-Key": octoprint.api_key},
    )

    async def scenario() -> None:
        driver = driver_for(octoprint)
        with pytest.raises(MachineError) as info:
            await driver.pause()  # nothing printing: OctoPrint answers 409
        assert info.value.code == "OCTOPRINT_NOT_OPERATIONAL"
        await driver.disconnect()

    asyncio.run(scenario())


def test_network_errors_always_say_what_happened() -> None:
    import httpx

    from fablabctl.machines.octoprint import network_error

    for exc in (httpx.RemoteProtocolError(""), httpx.ReadError(""), httpx.ConnectError(""), OSError()):
        fr, en = network_error(exc)
        assert type(exc).__name__ in en and len(en) > len(type(exc).__name__) + 5, en
        assert fr.strip() and en.strip()


def test_connection_refused() -> None:
    async def scenario() -> None:
        driver = OctoPrintDriver(f"http://127.0.0.1:{free_port()}", "KEY")
        with pytest.raises(MachineError) as info:
            await driver.connect()
        assert info.value.code == "MACHINE_OFFLINE"
        await driver.disconnect()

    asyncio.run(scenario())
