"""Admin pages for what changes while the service runs: the laser material library and the
run-time settings. The rules live in `fleet/materials.py` and `people/runtime_settings.py`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from fablabctl.errors import Invalid
from fablabctl.fleet import materials as library
from fablabctl.i18n import Lang, Text
from fablabctl.people import runtime_settings
from fablabctl.people.roles import Role
from fablabctl.web.pages.core import PageRoute, context_of, db, lang_of, redirect, render, require_user
from fablabctl.web.runtime import refresh_settings

router = APIRouter(route_class=PageRoute, include_in_schema=False)
OPERATIONS = ("cut", "engrave", "score")
KEY_PATTERN = "abcdefghijklmnopqrstuvwxyz0123456789-_."
# field -> (low, high, whole number); power is asked in % on the form, stored as a fraction
RANGES: dict[str, tuple[float, float, bool]] = {
    "thickness_mm": (0.1, 100.0, False),
    "kerf_mm": (0.0, 2.0, False),
    "press_fit_mm": (0.0, 0.5, False),
    **{f"{op}_speed": (1.0, 60_000.0, False) for op in OPERATIONS},
    **{f"{op}_power": (0.0, 100.0, False) for op in OPERATIONS},
    **{f"{op}_passes": (1.0, 20.0, True) for op in OPERATIONS},
}
REQUIRED = Text("Obligatoire.", "Required.")
NUMBER = Text("Un nombre entre {low:g} et {high:g}.", "A number between {low:g} and {high:g}.")
WHOLE = Text("Un nombre entier entre {low:g} et {high:g}.", "A whole number between {low:g} and {high:g}.")
KEY_TEXT = Text(
    "2 à 64 caractères : minuscules, chiffres, - _ .", "2 to 64 characters: lower case, digits, - _ ."
)
NAME_TEXT = Text("1 à 120 caractères.", "1 to 120 characters.")


def _number(form: dict[str, str], name: str, errors: dict[str, str], lang: Lang) -> float | None:
    raw = form.get(name, "").strip().replace(",", ".")
    if not raw:
        return None
    low, high, whole = RANGES[name]
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high or (whole and value != int(value)):
        errors[name] = (WHOLE if whole else NUMBER).format(low=low, high=high).in_(lang)
        return None
    return value


def settings_from_form(form: dict[str, str], lang: Lang) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's fields as a library entry's settings, and the errors next to each field."""
    errors: dict[str, str] = {}
    settings: dict[str, Any] = {"air_assist": form.get("air_assist") == "1"}
    for name in ("thickness_mm", "kerf_mm", "press_fit_mm"):
        value = _number(form, name, errors, lang)
        if value is not None:
            settings[name] = value
    sources = [s for s in ("diode", "co2") if form.get(f"source_{s}") == "1"]
    if not sources:
        errors["sources"] = Text("Cochez au moins une source.", "Tick at least one source.").in_(lang)
    settings["sources"] = sources
    for op in OPERATIONS:
        values = {part: _number(form, f"{op}_{part}", errors, lang) for part in ("speed", "power", "passes")}
        if values["speed"] is None and values["power"] is None:
            if op == "cut" and f"{op}_speed" not in errors:
                errors["cut_speed"] = REQUIRED.in_(lang)
            continue
        for part in ("speed", "power"):
            if values[part] is None and f"{op}_{part}" not in errors:
                errors[f"{op}_{part}"] = REQUIRED.in_(lang)
        if values["speed"] is not None and values["power"] is not None:
            settings[op] = {
                "speed": values["speed"],
                "power": round(values["power"] / 100, 4),
                "passes": int(values["passes"] or 1),
            }
    for name in ("name_fr", "name_en"):
        if not 1 <= len(form.get(name, "").strip()) <= 120 or any(ord(c) < 32 for c in form.get(name, "")):
            errors[name] = NAME_TEXT.in_(lang)
    return settings, errors


def form_of(material: library.MaterialOut) -> dict[str, str]:
    """A stored entry as the form shows it (power in %)."""
    s = material.settings
    form = {
        "key": material.key,
        "name_fr": material.name_fr,
        "name_en": material.name_en,
        "air_assist": "1" if s.get("air_assist") else "",
        **{f"source_{src}": "1" for src in s.get("sources", ["diode", "co2"])},
    }
    for name in ("thickness_mm", "kerf_mm", "press_fit_mm"):
        if s.get(name) is not None:
            form[name] = f"{s[name]:g}"
    for op in OPERATIONS:
        if isinstance(s.get(op), dict):
            form[f"{op}_speed"] = f"{s[op]['speed']:g}"
            form[f"{op}_power"] = f"{s[op]['power'] * 100:g}"
            form[f"{op}_passes"] = str(s[op].get("passes", 1))
    return form


def _materials_page(
    request: Request,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    editing: int = 0,
) -> Response:
    with db(request) as session:
        user = require_user(request, session, Role.ADMIN)
        rows = library.list_materials(session=session, include_disabled=True)
        return render(
            request,
            "admin_materials.html",
            user=user,
            materials=rows,
            forms={m.id: (form if editing == m.id and form else form_of(m)) for m in rows},
            errors=errors or {},
            new_form=form
            if not editing and form
            else {"source_diode": "1", "source_co2": "1", "cut_passes": "1"},
            editing=editing,
            status=400 if errors else 200,
        )


@router.get("/admin/materials")
def materials_page(request: Request) -> Response:
    return _materials_page(request)


async def _form(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


def _write_file(request: Request) -> None:
    """Preparation reads the library's file: write it again at once (this process's data dir)."""
    with db(request) as session:
        library.write_site_file(session, context_of(request).settings.data_dir)


@router.post("/admin/materials")
async def create_material(request: Request) -> Response:
    lang = lang_of(request)
    form = await _form(request)
    key = form.get("key", "").strip().lower()
    settings, errors = settings_from_form(form, lang)
    if not 2 <= len(key) <= 64 or any(c not in KEY_PATTERN for c in key):
        errors["key"] = KEY_TEXT.in_(lang)
    if errors:
        return await run_in_threadpool(_materials_page, request, errors, form)

    def save() -> None:
        with db(request) as session:
            actor = require_user(request, session, Role.ADMIN)
            library.create_material(
                session=session,
                actor=actor,
                key=key,
                name_fr=form["name_fr"].strip(),
                name_en=form["name_en"].strip(),
                settings=settings,
            )

    await run_in_threadpool(save)
    await run_in_threadpool(_write_file, request)
    done = Text(f"Matériau « {key} » ajouté.", f"Material '{key}' added.")
    return redirect("/admin/materials", flash=done.in_(lang))


@router.post("/admin/materials/{material_id}")
async def update_material(material_id: int, request: Request) -> Response:
    lang = lang_of(request)
    form = await _form(request)
    settings, errors = settings_from_form(form, lang)
    if errors:
        return await run_in_threadpool(_materials_page, request, errors, form, material_id)

    def save() -> None:
        with db(request) as session:
            actor = require_user(request, session, Role.ADMIN)
            library.update_material(
                session=session,
                actor=actor,
                material_id=material_id,
                name_fr=form["name_fr"].strip(),
                name_en=form["name_en"].strip(),
                settings=settings,
            )

    await run_in_threadpool(save)
    await run_in_threadpool(_write_file, request)
    return redirect("/admin/materials", flash=Text("Matériau enregistré.", "Material saved.").in_(lang))


@router.post("/admin/materials/{material_id}/active")
async def material_active(material_id: int, request: Request) -> Response:
    lang = lang_of(request)
    active = (await _form(request)).get("active") == "1"

    def save() -> None:
        with db(request) as session:
            actor = require_user(request, session, Role.ADMIN)
            library.set_active(session=session, actor=actor, material_id=material_id, active=active)

    await run_in_threadpool(save)
    await run_in_threadpool(_write_file, request)
    text = (
        Text("Matériau réactivé.", "Material enabled.")
        if active
        else Text(
            "Matériau désactivé : il n'est plus proposé.", "Material disabled: it is no longer offered."
        )
    )
    return redirect("/admin/materials", flash=text.in_(lang))


# ---------------------------------------------------------------------- run-time settings


def _settings_page(request: Request, errors: dict[str, str] | None = None) -> Response:
    with db(request) as session:
        user = require_user(request, session, Role.ADMIN)
        rows = runtime_settings.effective(context_of(request).settings, request.app.state.env_settings)
        lang = lang_of(request)
        return render(
            request,
            "admin_settings.html",
            user=user,
            rows=rows,
            shown=lambda value: shown(value, lang),
            errors=errors or {},
            status=400 if errors else 200,
        )


def shown(value: object, lang: Lang) -> str:
    """A number as people write it (7, 7,5 in French); anything else as it is."""
    if isinstance(value, float) and not isinstance(value, bool):
        text = f"{value:g}"
        return text.replace(".", ",") if lang == "fr" else text
    return str(value)


@router.get("/admin/settings")
def settings_page(request: Request) -> Response:
    return _settings_page(request)


@router.post("/admin/settings")
async def change_settings(request: Request) -> Response:
    """Each field: a new value, empty to leave it (a secret), or "reset" ticked for the default."""
    lang = lang_of(request)
    form = await _form(request)
    context = context_of(request)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for item in runtime_settings.CHANGEABLE:
        key, current = item.key, getattr(context.settings, item.key)
        if form.get(f"reset_{key}") == "1":
            values[key] = None
            continue
        if not isinstance(current, bool) and key not in form:
            continue  # not on the form sent: left as it is
        raw: Any = form.get(key) == "1" if isinstance(current, bool) else form[key].strip()
        if isinstance(current, int | float) and not isinstance(current, bool):
            raw = raw.replace(",", ".")  # 7,5 as French people write it
        if item.secret and not raw:
            continue  # an empty secret field keeps the secret
        try:
            parsed = runtime_settings.parse_value(key, raw)
        except Invalid as exc:
            errors[key] = exc.message.in_(lang)
            continue
        if parsed != current:  # unchanged values are neither stored nor audited
            values[key] = parsed
    if errors:
        return await run_in_threadpool(_settings_page, request, errors)

    def save() -> None:
        with db(request) as session:
            actor = require_user(request, session, Role.ADMIN)
            runtime_settings.change(session=session, actor=actor, base=context.settings, values=values)

    await run_in_threadpool(save)
    await run_in_threadpool(refresh_settings, request.app, context)
    return redirect("/admin/settings", flash=Text("Réglages enregistrés.", "Settings saved.").in_(lang))
