"""STL checks on size and printability: the part's size and likely unit mistakes, which printers it
fits (turned if need be), walls thinner than the nozzle and overhangs that need supports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fablabctl.i18n import Text
from fablabctl.specs import MachineSpec
from fablabctl.validation.report import Finding, Report
from fablabctl.validation.stl_load import MAX_LISTED, E, W, pt
from fablabctl.validation.stl_shape import bed_fit, overhang_share, thin_wall_points, unit_guess

OVERHANG_WARN_SHARE = 0.05


def check_size(mesh: Any, machines: Sequence[MachineSpec], report: Report) -> None:
    extents = [round(float(v), 2) for v in mesh.extents]
    dims = " x ".join(f"{v:g}" for v in extents)
    report.metrics["size_mm"] = extents
    guesses = unit_guess(max(extents))
    if guesses:
        options_fr = " ou ".join(
            f"x{scale:g} ({unit}) : {' x '.join(f'{v * scale:.1f}' for v in extents)} mm"
            for unit, scale in guesses
        )
        options_en = " or ".join(
            f"x{scale:g} ({unit}): {' x '.join(f'{v * scale:.1f}' for v in extents)} mm"
            for unit, scale in guesses
        )
        report.add(
            Finding(
                "STL_SUSPICIOUS_UNITS",
                W,
                Text(
                    f"La pièce mesure {dims} mm : elle a sans doute été dessinée dans une autre unité. "
                    f"À l'échelle {options_fr}.",
                    f"The part measures {dims} mm: it was probably modelled in another unit. "
                    f"Scaled {options_en}.",
                ),
                Text(
                    "Réexportez en millimètres, ou mettez à l'échelle dans le trancheur.",
                    "Export in millimetres, or scale it in the slicer.",
                ),
                {"size_mm": extents, "scales": [scale for _, scale in guesses]},
            )
        )
    if not machines:
        return
    fits = []
    for machine in machines:
        fit = bed_fit(mesh, machine)
        if fit.fits:
            fits.append(machine.name)
            if fit.rotation and len(machines) == 1:
                turn_fr, _, turn_en = fit.rotation.partition(" / ")
                report.add(
                    Finding(
                        "STL_NEEDS_ROTATION",
                        W,
                        Text(
                            f"La pièce ne rentre sur {machine.name} qu'après rotation : {turn_fr}.",
                            f"The part only fits {machine.name} once rotated: {turn_en}.",
                        ),
                        location={"machine": machine.name},
                    )
                )
    report.fits = fits
    if not fits:
        beds = ", ".join(f"{m.name} ({m.bed_x_mm:g}x{m.bed_y_mm:g}x{m.bed_z_mm:g})" for m in machines)
        report.add(
            Finding(
                "STL_TOO_LARGE_FOR_BED",
                E,
                Text(
                    f"La pièce ({dims} mm) ne rentre sur aucune imprimante, même tournée : {beds}.",
                    f"The part ({dims} mm) fits no printer, even rotated: {beds}.",
                ),
                Text(
                    "Coupez-la en morceaux à assembler, ou réduisez l'échelle.",
                    "Split it into parts, or scale it down.",
                ),
                {"size_mm": extents},
            )
        )


def check_printability(mesh: Any, machines: Sequence[MachineSpec], report: Report) -> None:
    nozzle = min((m.nozzle_mm for m in machines), default=0.4)
    thin = thin_wall_points(mesh, nozzle)
    if len(thin):
        report.add(
            Finding(
                "STL_THIN_WALLS",
                W,
                Text(
                    f"Des parois semblent plus fines que la buse ({nozzle:g} mm) : elles risquent de ne pas "
                    "s'imprimer (estimation par échantillonnage de la surface).",
                    f"Some walls look thinner than the nozzle ({nozzle:g} mm): they may not print "
                    "(estimated from surface samples).",
                ),
                Text(
                    f"Épaississez les parois à au moins {2 * nozzle:g} mm.",
                    f"Make walls at least {2 * nozzle:g} mm.",
                ),
                {"points": [pt(p) for p in thin[:MAX_LISTED]], "samples_thin": len(thin)},
            )
        )
    share, where = overhang_share(mesh)
    report.metrics["overhang_share"] = round(share, 3)
    if share > OVERHANG_WARN_SHARE:
        report.add(
            Finding(
                "STL_OVERHANGS",
                W,
                Text(
                    f"{share:.0%} de la surface est en surplomb à plus de 45° : il faudra des supports.",
                    f"{share:.0%} of the surface overhangs beyond 45°: supports will be needed.",
                ),
                Text(
                    "Tournez la pièce pour poser sa plus grande face à plat, ou activez les supports.",
                    "Turn the part so its largest flat face is on the bed, or enable supports.",
                ),
                {"point": pt(where)} if where is not None else {},
            )
        )
