"""Design checks on big real-shaped files, as ratios to the bare library load measured in the same run.

STL: `fablabctl validate FILE` against `python -c "import trimesh; trimesh.load(FILE)"`, both whole
processes (interpreter start and imports included), median of 3 interleaved runs, on the corpus's
sculpted bust subdivided to 1.05M triangles (bench/_shapes.py). Targets: time <= 1.5x, peak memory
(max RSS) <= trimesh's, and linear growth: time and memory per triangle at 4.2M within 1.25x of 1.05M.
DXF: `validate_file` against `ezdxf.readfile` in one process (best of 2), on a 50k-entity sheet of
mixed curves (circles, arcs, lines, splines, bulged lwpolylines) and on the corpus's real drawings
(all readable ones, times summed). Target <= 2x.
Run: .venv/bin/python bench/validate.py [--quick] [--table]
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shapes import CORPUS, mixed_dxf, sculpted_stl
from _table import PYTHON, Row, Run, emit, median_runs, options

BIG_LIMITS = {"FABLAB_MAX_UPLOAD_MB": "4096", "FABLAB_MAX_TRIANGLES": "50000000"}


def best(fn: Callable[[], object], repeat: int = 2) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def stl_rows(folder: Path, quick: bool) -> list[Row]:
    sizes = (250_000, 1_000_000) if quick else (1_050_000, 4_200_000)
    repeat = 1 if quick else 3
    measured = {}
    for size in sizes:
        path = folder / f"bust-{size}.stl"
        count = sculpted_stl(path, size)
        commands = {
            "trimesh": [*PYTHON, "-c", f"import trimesh; trimesh.load({str(path)!r})"],
            "validate": [*PYTHON, "-m", "fablabctl", "validate", str(path), "--json"],
        }
        try:
            measured[count] = median_runs(commands, repeat if size == sizes[0] else 1, BIG_LIMITS)
        except RuntimeError as exc:
            if not measured:
                raise
            failed = str(exc).replace("|", "/")[-150:]
            return [
                *_stl_ratio_rows(measured),
                Row("STL", f"growth to {count / 1e6:.2f}M", failed, "-", False),
            ]
        finally:
            path.unlink()
    return [*_stl_ratio_rows(measured), _growth_row(measured)]


def _stl_ratio_rows(measured: dict[int, dict[str, Run]]) -> list[Row]:
    small = min(measured)
    first = measured[small]
    ratio = first["validate"].seconds / first["trimesh"].seconds
    memory = first["validate"].peak_mb / first["trimesh"].peak_mb
    where = f"sculpted bust, {small / 1e6:.2f}M triangles"
    return [
        Row(
            "STL",
            f"`fablabctl validate` ÷ `trimesh.load`, whole process ({where})",
            f"{ratio:.2f}x ({first['validate'].seconds:.1f} s / {first['trimesh'].seconds:.1f} s)",
            "≤ 1.5x",
            ratio <= 1.5,
        ),
        Row(
            "STL",
            f"peak memory (max RSS) validate ÷ trimesh.load ({where})",
            f"{memory:.2f}x ({first['validate'].peak_mb:.0f} MB / {first['trimesh'].peak_mb:.0f} MB)",
            "≤ 1x",
            memory <= 1.0,
        ),
    ]


def _growth_row(measured: dict[int, dict[str, Run]]) -> Row:
    small, big = sorted(measured)
    first = measured[small]
    scale = big / small
    grow_t = measured[big]["validate"].seconds / first["validate"].seconds / scale
    grow_m = measured[big]["validate"].peak_mb / first["validate"].peak_mb / scale
    return Row(
        "STL",
        f"growth {small / 1e6:.2f}M → {big / 1e6:.2f}M triangles: time, memory per triangle",
        f"{grow_t:.2f}x, {grow_m:.2f}x",
        "≤ 1.25x (linear)",
        grow_t <= 1.25 and grow_m <= 1.25,
    )


def dxf_rows(folder: Path, quick: bool) -> list[Row]:
    import ezdxf

    from fablabctl.file_limits import ValidationLimits
    from fablabctl.validation.validate import validate_file

    limits = ValidationLimits(max_file_bytes=1 << 31)
    entities = 10_000 if quick else 50_000
    path = folder / "mixed.dxf"
    counts = mixed_dxf(path, entities)
    mix = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    bare = best(lambda: ezdxf.readfile(path))
    ours = best(lambda: validate_file(path, limits=limits))
    rows = [
        Row(
            "DXF",
            f"`validate_file` ÷ `ezdxf.readfile`, {sum(counts.values()) // 1000}k entities ({mix})",
            f"{ours / bare:.2f}x ({ours:.2f} s / {bare:.2f} s)",
            "≤ 2x",
            ours / bare <= 2.0,
        )
    ]
    real = [p for p in sorted((CORPUS / "dxf").glob("*")) if _readable(p)]
    bare = sum(best(lambda p=p: ezdxf.readfile(p)) for p in real)  # type: ignore[misc]
    ours = sum(best(lambda p=p: validate_file(p, limits=limits)) for p in real)  # type: ignore[misc]
    rows.append(
        Row(
            "DXF",
            f"same, the corpus's {len(real)} real drawings (times summed)",
            f"{ours / bare:.2f}x ({ours:.2f} s / {bare:.2f} s)",
            "≤ 2x",
            ours / bare <= 2.0,
        )
    )
    return rows


def _readable(path: Path) -> bool:
    import ezdxf

    try:
        ezdxf.readfile(path)
    except Exception:  # the corpus holds damaged files on purpose: only readable ones have a baseline
        return False
    return True


def main() -> None:
    args = options(__doc__).parse_args()
    logging.getLogger("ezdxf").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        emit(stl_rows(Path(tmp), args.quick), args.table)
        emit(dxf_rows(Path(tmp), args.quick), args.table)


if __name__ == "__main__":
    main()
