"""`fablabctl send` as a real process against the simulators; port discovery; the driver factory."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from fablabctl.machines.discovery import scan
from fablabctl.machines.factory import make_driver
from fablabctl.machines.sim.grbl_sim import GrblSimulator
from fablabctl.machines.sim.marlin_sim import MarlinFaults, MarlinSimulator
from tests.machines.helpers import gcode_file, job_commands, run_job
from tests.postgres_server import free_port

ENV = {**os.environ, "COLUMNS": "120"}
ADD_ARGS = ("--driver", "marlin", "--bed", "250x210x210", "--port", "/dev/ttyUSB0")


def send(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "fablabctl", "send", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
        env=env or ENV,
    )


def test_send_streams_a_whole_file_to_marlin(tmp_path: Path) -> None:
    path, expected = gcode_file(tmp_path / "job.gcode", 300)
    with MarlinSimulator() as sim:
        proc = send(str(path), "--port", sim.port, "--driver", "marlin")
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "300 lignes acquittées" in out  # French unless FABLAB_LANG=en
        assert job_commands(sim.executed, expected) == expected


def test_send_to_grbl_and_report_failure(tmp_path: Path) -> None:
    good = tmp_path / "ok.nc"
    good.write_text("G21\nG90\nM4 S100\nG1 X10 Y10 F2000\nM5\n")
    bad = tmp_path / "bad.nc"
    bad.write_text("G21\nM4 S100\nG1 X10 F2000\nG5 X1\nM5\n")
    with GrblSimulator() as sim:
        proc = send(str(good), "--port", sim.port, "--driver", "grbl")
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        proc = send(str(bad), "--port", sim.port, "--driver", "grbl")
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 1
        assert "error:20" in err


def test_send_reports_a_thermal_runaway(tmp_path: Path) -> None:
    path, _ = gcode_file(tmp_path / "job.gcode", 100)
    with MarlinSimulator(faults=MarlinFaults(thermal_runaway_at_line=40)) as sim:
        proc = send(str(path), "--port", sim.port, "--driver", "marlin")
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 1
        assert "Thermal Runaway" in err


def test_ctrl_c_pauses_then_cancels(tmp_path: Path) -> None:
    path, _ = gcode_file(tmp_path / "long.gcode", 5000)
    with MarlinSimulator(command_s=0.002) as sim:
        proc = send(str(path), "--port", sim.port, "--driver", "marlin")
        deadline = time.monotonic() + 30  # streaming has begun (a loaded machine imports slowly)
        while sim.received_lines < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sim.received_lines >= 50, "fablabctl send never started streaming"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(input="o\n", timeout=60)
        assert proc.returncode == 1, out + err
        assert "annulé" in err
        assert sim.executed[-4:] == ["M104 S0", "M140 S0", "M107", "M84"]


def test_unknown_port_is_one_clear_line(tmp_path: Path) -> None:
    path, _ = gcode_file(tmp_path / "job.gcode", 3)
    proc = send(str(path), "--port", "/dev/nonexistent-port", "--driver", "marlin")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "MACHINE_OFFLINE" in err and "Traceback" not in err


def test_scan_finds_both_simulators_and_ignores_silence() -> None:
    async def scenario() -> None:
        with MarlinSimulator() as printer, GrblSimulator() as laser:
            silent = MarlinSimulator()
            silent.halted = True
            silent.start()
            try:
                found = await scan(
                    [(printer.port, "sim"), (laser.port, "sim"), (silent.port, "")], timeout=0.7
                )
            finally:
                silent.stop()
            by_port = {f.port: f for f in found}
            assert by_port[printer.port].driver == "marlin" and "Marlin" in by_port[printer.port].firmware
            assert by_port[laser.port].driver == "grbl" and by_port[laser.port].firmware == "Grbl 1.1h"
            assert silent.port not in by_port
            assert (
                by_port[laser.port]
                .add_command("laser-1")
                .startswith("fablabctl machine add laser-1 --kind laser --driver grbl --port ")
            )

    asyncio.run(scenario())


def test_factory_builds_simulated_machines(tmp_path: Path) -> None:
    path, expected = gcode_file(tmp_path / "job.gcode", 30)

    async def scenario() -> None:
        driver, simulator = make_driver("marlin", {"simulated": True, "sim_speed": 100})
        assert simulator is not None
        try:
            await driver.connect()
            end, _ = await run_job(driver, path)
            assert end.kind.value == "job_done"
            assert job_commands(simulator.executed, expected) == expected
        finally:
            await driver.disconnect()
            simulator.stop()

    asyncio.run(scenario())


def test_octoprint_factory_needs_no_simulator() -> None:
    driver, simulator = make_driver("octoprint", {"url": f"http://127.0.0.1:{free_port()}", "api_key": "K"})
    assert simulator is None and driver.kind == "octoprint"


def test_send_refuses_a_hot_line_before_opening_the_port(tmp_path: Path) -> None:
    path = tmp_path / "hot.gcode"
    path.write_text("G28\nM104 S400\nG1 X10 Y10 F3000\n")
    with MarlinSimulator() as sim:
        proc = send(str(path), "--port", sim.port, "--driver", "marlin")
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 1, err
        assert "GCODE_REFUSED_BY_POLICY" in err and "GCODE_HOTEND_TOO_HOT" in err
        assert "Ligne 2" in err and "M104 S400" in err and "rien n'a été envoyé" in err
        assert sim.received_lines == 0 and sim.executed == []


def test_send_applies_the_laser_policy_to_grbl(tmp_path: Path) -> None:
    path = tmp_path / "cut.nc"
    path.write_text("G21 G90\n$32=0\nM4 S100\nG1 X10 F2000\nM5\n")
    with GrblSimulator() as sim:
        proc = send(str(path), "--port", sim.port, "--driver", "grbl")
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 1 and "GCODE_FORBIDDEN_COMMAND" in err and "Ligne 2" in err
        assert sim.settings[32] == "1" and sim.received_lines == 0


def test_send_uses_the_named_machines_limits(tmp_path: Path) -> None:
    env = {**ENV, "FABLAB_DATA_DIR": str(tmp_path / "var")}
    for key in ("FABLAB_DATABASE_URL", "FABLAB_API", "FABLAB_TOKEN"):
        env.pop(key, None)
    added = subprocess.run(
        [sys.executable, "-m", "fablabctl", "machine", "add", "prusa-pla", "--kind", "printer", *ADD_ARGS],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert added.returncode == 0, added.stderr
    with sqlite3.connect(tmp_path / "var" / "fablabctl.db") as db:  # a PLA-only hotend: 230 °C at most
        db.execute("UPDATE machines SET max_hotend_c = 230 WHERE name = 'prusa-pla'")
    path = tmp_path / "warm.gcode"
    path.write_text("M104 S240\nG28\n")  # fine for the default printer (260 °C)
    with MarlinSimulator() as sim:
        proc = send(str(path), "--port", sim.port, "--driver", "marlin", "--machine", "prusa-pla", env=env)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 1 and "230" in err and "prusa-pla" in err, err
        assert sim.received_lines == 0
        wrong = send(str(path), "--port", sim.port, "--driver", "grbl", "--machine", "prusa-pla", env=env)
        _, err = wrong.communicate(timeout=60)
        assert wrong.returncode == 2 and "ne lui correspond pas" in err
