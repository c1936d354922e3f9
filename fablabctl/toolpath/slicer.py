"""STL -> printer G-code with the real PrusaSlicer CLI, cached by (design, profile, copies).

The slicer runs as a subprocess with a timeout and a memory limit; its complaints become a clear
error. Estimates (time, filament length and mass) are read from the comments it writes, and the
G-code is checked by the machine's safety policy before anyone can run it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import resource
import shutil
import subprocess
from pathlib import Path

from fablabctl.files import write_atomic, written_aside
from fablabctl.specs import MachineSpec
from fablabctl.toolpath.mesh_stage import stage_stl
from fablabctl.toolpath.profiles import Profile, compose
from fablabctl.toolpath.result import ToolpathError, ToolpathResult

log = logging.getLogger(__name__)
SLICER = "prusa-slicer"
MEMORY_LIMIT = 4 * 1024**3
TIME = re.compile(r"^; estimated printing time \(normal mode\) = (.+)$", re.M)
FILAMENT_MM = re.compile(r"^; filament used \[mm\] = ([\d.]+)", re.M)
FILAMENT_G = re.compile(r"^; (?:total )?filament used \[g\] = ([\d.]+)", re.M)
FILAMENT_CM3 = re.compile(r"^; filament used \[cm3\] = ([\d.]+)", re.M)


def parse_duration(text: str) -> float:
    """'1d 2h 3m 4s' -> seconds."""
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    return float(sum(int(n) * units[u] for n, u in re.findall(r"(\d+)\s*([dhms])", text)))


def parse_estimates(gcode_tail: str) -> dict[str, float]:
    estimates: dict[str, float] = {}
    if match := TIME.search(gcode_tail):
        estimates["duration_s"] = parse_duration(match.group(1))
    if match := FILAMENT_MM.search(gcode_tail):
        estimates["filament_mm"] = float(match.group(1))
    grams = [float(g) for g in FILAMENT_G.findall(gcode_tail)]
    if grams and max(grams) > 0:
        estimates["filament_g"] = max(grams)
    if match := FILAMENT_CM3.search(gcode_tail):
        estimates["filament_cm3"] = float(match.group(1))
    return estimates


def _limit_memory() -> None:  # runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def slicer_path() -> str:
    found = shutil.which(SLICER)
    if not found:
        raise ToolpathError(
            "SLICER_MISSING",
            "Le trancheur PrusaSlicer n'est pas installé (apt-get install prusa-slicer).",
            "The PrusaSlicer slicer is not installed (apt-get install prusa-slicer).",
        )
    return found


def _tail(path: Path, size: int = 64 * 1024) -> str:
    with path.open("rb") as stream:
        stream.seek(max(0, path.stat().st_size - size))
        return stream.read().decode("utf-8", errors="replace")


def slice_stl(
    stl: Path,
    *,
    machine: MachineSpec,
    material: str,
    cache_dir: Path,
    quality: str = "normal",
    copies: int = 1,
    timeout_s: float = 600.0,
    profiles_dir: Path | None = None,
) -> ToolpathResult:
    """Slice (or fetch from the cache) and return the G-code with its estimates."""
    profile = compose(machine, material, quality, profiles_dir)
    design = hashlib.sha256(stl.read_bytes()).hexdigest()
    key = hashlib.sha256(f"{design}:{profile.digest}:{copies}".encode()).hexdigest()[:32]
    folder = cache_dir / "slices"
    folder.mkdir(parents=True, exist_ok=True)
    gcode, meta = folder / f"{key}.gcode", folder / f"{key}.json"
    settings = {
        "slicer": "PrusaSlicer",
        "profile": profile.name,
        "profile_sha256": profile.digest,
        "material": material,
        "quality": quality,
        "copies": copies,
    }
    staged = folder / f"{design}.stl"  # stored designs have no extension; PrusaSlicer goes by the name
    fixes_file = folder / f"{design}.fixes.json"
    if gcode.is_file() and meta.is_file() and fixes_file.is_file():
        estimates = json.loads(meta.read_text())
        settings["mesh_fixes"] = json.loads(fixes_file.read_text())
        return ToolpathResult(gcode, estimates.get("duration_s", 0.0), settings, estimates, cached=True)
    if not staged.is_file() or not fixes_file.is_file():
        with written_aside(staged) as partial:  # what validation promised preparation fixes, fixed
            fixes = stage_stl(stl, partial)
        write_atomic(fixes_file, json.dumps(fixes))
    settings["mesh_fixes"] = json.loads(fixes_file.read_text())
    with written_aside(gcode) as partial:
        _run_slicer(staged, profile, machine, copies, partial, folder, timeout_s)
    estimates = parse_estimates(_tail(gcode))
    write_atomic(meta, json.dumps(estimates))
    return ToolpathResult(gcode, estimates.get("duration_s", 0.0), settings, estimates)


def _run_slicer(
    stl: Path, profile: Profile, machine: MachineSpec, copies: int, out: Path, folder: Path, timeout_s: float
) -> None:
    ini = folder / f"profile-{profile.digest[:16]}.ini"
    if not ini.is_file():
        write_atomic(ini, profile.text)
    argv = [
        slicer_path(),
        "--export-gcode",
        "--load",
        str(ini),
        "--output",
        str(out),
        "--center",
        f"{machine.bed_x_mm / 2:g},{machine.bed_y_mm / 2:g}",
    ]
    if copies > 1:
        argv += ["--duplicate", str(copies)]
    argv.append(str(stl))
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout_s, preexec_fn=_limit_memory, check=False
        )
    except subprocess.TimeoutExpired:
        out.unlink(missing_ok=True)
        raise ToolpathError(
            "SLICER_TIMEOUT",
            f"Le trancheur n'a pas fini en {timeout_s:.0f} s.",
            f"The slicer did not finish within {timeout_s:.0f} s.",
        ) from None
    if done.returncode != 0 or not out.is_file():
        out.unlink(missing_ok=True)
        lines = [
            line
            for line in (done.stderr + done.stdout).splitlines()
            if line.strip() and "[trace]" not in line
        ]
        # the slicer's own words name server paths: they go to the log, the person gets a reason
        log.warning("PrusaSlicer failed (exit %s): %s", done.returncode, " | ".join(lines[-5:])[:2000])
        fr, en = _slicer_reason("\n".join(lines))
        raise ToolpathError(
            "SLICER_FAILED",
            f"Le trancheur n'a pas pu découper ce fichier : {fr}",
            f"The slicer could not slice this file: {en}",
        )


def _slicer_reason(output: str) -> tuple[str, str]:
    """What PrusaSlicer's complaint means, in words a tigiste can act on (never its raw text)."""
    text = output.lower()
    if "outside" in text or "print volume" in text or "bed" in text:
        return (
            "la pièce dépasse du plateau une fois posée. Réduisez-la ou tournez-la.",
            "the part does not fit the bed once placed. Scale it down or turn it.",
        )
    if "empty" in text or "no extrusion" in text or "nothing to print" in text:
        return (
            "rien à imprimer (pièce trop fine ou trop petite pour la buse). Épaississez-la.",
            "nothing to print (the part is too thin or too small for the nozzle). Make it thicker.",
        )
    if "manifold" in text or "open edges" in text or "repair" in text:
        return (
            "le maillage est abîmé. Validez le fichier et proposez la réparation automatique.",
            "the mesh is damaged. Validate the file and offer the automatic repair.",
        )
    return (
        "le trancheur s'est arrêté. Validez le fichier ; si le rapport est bon, prévenez un formateur.",
        "the slicer stopped. Validate the file; if the report is fine, tell a trainer.",
    )
