"""Build the right driver from a machine record's driver type and connection settings.

`{"simulated": true}` starts a built-in simulator on a pty and connects the real serial driver to
it, so the demo mode and the tests exercise exactly the code that drives hardware.
"""

from __future__ import annotations

from typing import Any

from fablabctl.i18n import Text
from fablabctl.machines.base import Driver, MachineError
from fablabctl.machines.grbl import GrblDriver
from fablabctl.machines.marlin import MarlinDriver
from fablabctl.machines.octoprint import OctoPrintDriver
from fablabctl.machines.sim.grbl_sim import GrblSimulator
from fablabctl.machines.sim.marlin_sim import MarlinSimulator
from fablabctl.specs import MachineSpec

Simulator = MarlinSimulator | GrblSimulator


def make_simulator(driver_type: str, connection: dict[str, Any]) -> Simulator:
    speed = float(connection.get("sim_speed", 1.0))  # >1: faster than real time (demo, tests)
    if driver_type == "grbl":
        return GrblSimulator(time_scale=1.0 / speed, laser_mode=bool(connection.get("laser_mode", True)))
    return MarlinSimulator(heat_rate=3.0 * speed, home_s=2.0 / speed, command_s=0.01 / speed)


def make_driver(
    driver_type: str, connection: dict[str, Any], spec: MachineSpec | None = None
) -> tuple[Driver, Simulator | None]:
    """(driver, simulator or None). The caller connects the driver and stops the simulator at the end.

    `spec` is the machine's record: its G-code safety policy runs on every job line the driver sends
    (without one, the built-in default printer's or laser's, never no policy)."""
    driver, simulator = _build(driver_type, connection)
    if spec is not None:
        driver.use_policy(spec)
    return driver, simulator


def _build(driver_type: str, connection: dict[str, Any]) -> tuple[Driver, Simulator | None]:
    simulator: Simulator | None = None
    if connection.get("simulated"):
        simulator = make_simulator(driver_type, connection)
        simulator.start()
        port, baud = simulator.port, 115200
    else:
        port, baud = str(connection.get("port", "")), int(connection.get("baud", 115200))
    if driver_type == "marlin" or (driver_type == "octoprint" and simulator is not None):
        return MarlinDriver(port, baud), simulator
    if driver_type == "grbl":
        return GrblDriver(port, baud), simulator
    if driver_type == "octoprint":
        return OctoPrintDriver(
            str(connection["url"]), str(connection["api_key"]), port=str(connection.get("port", "AUTO"))
        ), None
    raise MachineError(
        Text(f"Pilote inconnu : {driver_type}", f"Unknown driver: {driver_type}"), code="UNKNOWN_DRIVER"
    )
