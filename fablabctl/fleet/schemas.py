"""Machine records as the API and CLI accept and show them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from fablabctl.i18n import Text, TextValueError
from fablabctl.plaintext import NoControl

MachineName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._ -]+$")
]
SiteName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), NoControl]
MaterialName = Annotated[str, StringConstraints(min_length=1, max_length=64), NoControl]
Kind = Literal["printer", "laser"]
Driver = Literal["octoprint", "marlin", "grbl"]
LaserSource = Literal["diode", "co2"]
Millimetres = Annotated[float, Field(gt=0, le=5000)]

DRIVERS_FOR_KIND: dict[str, tuple[str, ...]] = {"printer": ("octoprint", "marlin"), "laser": ("grbl",)}


def check_connection(driver: str, connection: dict[str, Any]) -> None:
    """Each driver needs its own connection settings; say which one is missing."""
    if connection.get("simulated") is True:
        return
    if driver == "octoprint":
        for key in ("url", "api_key"):
            if not isinstance(connection.get(key), str) or not connection[key]:
                raise TextValueError(
                    Text(
                        "une connexion octoprint demande « {key} » (ou simulated: true)",
                        "octoprint connection needs '{key}' (or simulated: true)",
                    ).format(key=key)
                )
    else:
        if not isinstance(connection.get("port"), str) or not connection["port"]:
            raise TextValueError(
                Text(
                    "une connexion {driver} demande « port », par ex. /dev/ttyUSB0 (ou simulated: true)",
                    "{driver} connection needs 'port', e.g. /dev/ttyUSB0 (or simulated: true)",
                ).format(driver=driver)
            )
        baud = connection.get("baud", 115200)
        if not isinstance(baud, int) or baud not in (
            9600,
            19200,
            38400,
            57600,
            115200,
            230400,
            250000,
            500000,
        ):
            raise TextValueError(
                Text("vitesse non prise en charge : {baud!r} bauds", "unsupported baud rate {baud!r}").format(
                    baud=baud
                )
            )


class MachineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: MachineName
    kind: Kind
    driver: Driver
    connection: dict[str, Any] = Field(default_factory=lambda: {"simulated": True})
    bed_x_mm: Millimetres
    bed_y_mm: Millimetres
    bed_z_mm: Annotated[float, Field(ge=0, le=5000)] = 0.0
    nozzle_mm: Annotated[float, Field(gt=0, le=3)] = 0.4
    max_hotend_c: Annotated[float, Field(gt=0, le=500)] = 260.0
    max_bed_c: Annotated[float, Field(ge=0, le=200)] = 110.0
    laser_s_max: Annotated[int, Field(gt=0, le=100_000)] = 1000
    laser_max_power_s: Annotated[int, Field(gt=0, le=100_000)] = 1000
    materials: list[MaterialName] = Field(default_factory=list)
    laser_source: LaserSource | None = Field(
        default=None, description="Lasers: diode (the default) or co2; clear acrylic needs a co2 laser"
    )
    confirm_before_start: bool = True
    site: SiteName | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.driver not in DRIVERS_FOR_KIND[self.kind]:
            raise TextValueError(
                Text(
                    "une machine « {kind} » ne peut pas utiliser le pilote {driver} (utiliser {fr})",
                    "a {kind} cannot use the {driver} driver (use {en})",
                ).format(
                    kind=self.kind,
                    driver=self.driver,
                    fr=" ou ".join(DRIVERS_FOR_KIND[self.kind]),
                    en=" or ".join(DRIVERS_FOR_KIND[self.kind]),
                )
            )
        if self.kind == "printer" and self.bed_z_mm <= 0:
            raise TextValueError(
                Text(
                    "une imprimante demande bed_z_mm > 0 (sa hauteur d'impression)",
                    "a printer needs bed_z_mm > 0 (its build height)",
                )
            )
        if self.laser_source is not None and self.kind != "laser":
            raise TextValueError(
                Text("laser_source est réservé aux lasers", "laser_source is for lasers only")
            )
        if self.laser_max_power_s > self.laser_s_max:
            raise TextValueError(
                Text(
                    "laser_max_power_s ne peut dépasser laser_s_max ($30)",
                    "laser_max_power_s cannot exceed laser_s_max ($30)",
                )
            )
        check_connection(self.driver, self.connection)
        return self


class MachineUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connection: dict[str, Any] | None = None
    materials: list[MaterialName] | None = None
    loaded_material: Annotated[str, StringConstraints(max_length=64), NoControl] | None = None
    maintenance: bool | None = None
    confirm_before_start: bool | None = None
    laser_max_power_s: Annotated[int, Field(gt=0, le=100_000)] | None = None
    laser_source: LaserSource | None = None


class MachineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: Kind
    driver: Driver
    bed_x_mm: float
    bed_y_mm: float
    bed_z_mm: float
    nozzle_mm: float
    max_hotend_c: float
    max_bed_c: float
    laser_s_max: int
    laser_max_power_s: int
    materials: list[str]
    laser_source: str | None = None
    loaded_material: str | None
    state: str
    maintenance: bool
    confirm_before_start: bool
    created_at: datetime
