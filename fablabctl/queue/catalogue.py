"""The TIG projects as data (`jobs/*.toml`, format in jobs/README.md) and what starting one creates."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from fablabctl.i18n import Text

KINDS = {"laser": ".dxf", "printer": ".stl"}
LASER_SOURCES = ("diode", "co2")


class CatalogueError(Exception):
    def __init__(self, message: Text) -> None:
        super().__init__(message.en)
        self.message = message


@dataclass(frozen=True, slots=True)
class PartSpec:
    name_fr: str
    name_en: str
    design: Path  # absolute
    kind: str
    material: str
    quantity: int
    roles: tuple[str, ...]
    laser: str | None = None  # laser parts: the source they need ("co2"); None: any laser will do


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    title_fr: str
    title_en: str
    description_fr: str
    description_en: str
    parts: tuple[PartSpec, ...]


def _bad(path: Path, where: str, problem_fr: str, problem_en: str) -> CatalogueError:
    return CatalogueError(Text(f"{path.name}, {where} : {problem_fr}", f"{path.name}, {where}: {problem_en}"))


def _text(data: dict[str, object], key: str, path: Path, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _bad(path, where, f"champ « {key} » manquant ou vide", f"field '{key}' missing or empty")
    return value


def load_project(path: Path, designs_dir: Path) -> Project:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _bad(path, "fichier", f"TOML invalide ({exc})", f"invalid TOML ({exc})") from None
    parts_data = data.get("parts")
    if not isinstance(parts_data, list) or not parts_data:
        raise _bad(path, "parts", "aucune pièce ([[parts]])", "no parts ([[parts]])")
    parts = []
    for number, raw in enumerate(parts_data, 1):
        where = f"pièce {number} / part {number}"
        if not isinstance(raw, dict):
            raise _bad(path, where, "pièce mal formée", "malformed part")
        kind = _text(raw, "kind", path, where)
        if kind not in KINDS:
            raise _bad(
                path,
                where,
                f"type « {kind} » inconnu (laser ou printer)",
                f"unknown kind '{kind}' (laser or printer)",
            )
        design = designs_dir / _text(raw, "design", path, where)
        if not design.is_file():
            raise _bad(
                path, where, f"fichier de design introuvable : {design}", f"design file not found: {design}"
            )
        if design.suffix.lower() != KINDS[kind]:
            raise _bad(
                path,
                where,
                f"un travail {kind} attend un fichier {KINDS[kind]}",
                f"a {kind} part needs a {KINDS[kind]} file",
            )
        quantity = raw.get("quantity", 1)
        if not isinstance(quantity, int) or quantity < 1:
            raise _bad(path, where, "quantité entière >= 1 attendue", "quantity must be an integer >= 1")
        roles = raw.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise _bad(
                path, where, "« roles » doit être une liste de mots", "'roles' must be a list of words"
            )
        laser = raw.get("laser")
        if laser is not None and (kind != "laser" or laser not in LASER_SOURCES):
            raise _bad(
                path,
                where,
                "« laser » vaut diode ou co2, et seulement pour une pièce laser",
                "'laser' is diode or co2, and only for a laser part",
            )
        parts.append(
            PartSpec(
                _text(raw, "name_fr", path, where),
                _text(raw, "name_en", path, where),
                design,
                kind,
                _text(raw, "material", path, where),
                quantity,
                tuple(roles),
                "co2" if laser == "co2" else None,  # a co2 laser also cuts what a diode cuts
            )
        )
    return Project(
        _text(data, "id", path, "projet"),
        _text(data, "title_fr", path, "projet"),
        _text(data, "title_en", path, "projet"),
        str(data.get("description_fr", "")),
        str(data.get("description_en", "")),
        tuple(parts),
    )


def load_catalogue(jobs_dir: Path, designs_dir: Path | None = None) -> dict[str, Project]:
    designs_dir = designs_dir or jobs_dir.parent / "designs"
    projects: dict[str, Project] = {}
    for path in sorted(jobs_dir.glob("*.toml")):
        project = load_project(path, designs_dir)
        if project.id in projects:
            raise _bad(
                path, "id", f"identifiant « {project.id} » déjà utilisé", f"id '{project.id}' used twice"
            )
        projects[project.id] = project
    return projects


def project_parts(project: Project) -> list[PartSpec]:
    """One entry per piece to make (a quantity of 2 gives two entries, so two tigistes can share it)."""
    return [part for part in project.parts for _ in range(part.quantity)]
