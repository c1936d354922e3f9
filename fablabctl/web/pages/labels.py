"""Words shown for codes on the pages: job states, machine states, severities, waiting reasons."""

from __future__ import annotations

from fablabctl.i18n import Lang, Text
from fablabctl.queue import scheduler

JOB_STATES: dict[str, Text] = {
    "submitted": Text("En attente de validation", "Waiting for approval"),
    "approved": Text("Validé", "Approved"),
    "rejected": Text("Refusé", "Rejected"),
    "queued": Text("Dans la file", "In the queue"),
    "preparing": Text("En préparation", "Being prepared"),
    "waiting_operator": Text("Attend l'opérateur", "Waiting for the operator"),
    "running": Text("En cours", "Running"),
    "paused": Text("En pause", "Paused"),
    "interrupted": Text("Interrompu", "Interrupted"),
    "done": Text("Terminé", "Done"),
    "failed": Text("Échoué", "Failed"),
    "cancelled": Text("Annulé", "Cancelled"),
}

MACHINE_STATES: dict[str, Text] = {
    "idle": Text("Libre", "Idle"),
    "busy": Text("Occupée", "Busy"),
    "offline": Text("Hors ligne", "Offline"),
    "maintenance": Text("En maintenance", "Under maintenance"),
    "printing": Text("En marche", "Working"),
    "paused": Text("En pause", "Paused"),
    "error": Text("En erreur", "Error"),
}

SEVERITIES: dict[str, Text] = {
    "error": Text("À corriger", "Must fix"),
    "warning": Text("Attention", "Warning"),
    "info": Text("Pour info", "For information"),
}

WAITING: dict[str, Text] = {
    scheduler.NO_MACHINE: Text("aucune machine de ce type", "no machine of this kind"),
    scheduler.TOO_LARGE: Text("trop grand pour toutes les machines", "too large for every machine"),
    scheduler.NO_MATERIAL: Text("aucune machine n'accepte ce matériau", "no machine accepts this material"),
    scheduler.MAINTENANCE: Text("machines en maintenance", "machines under maintenance"),
    scheduler.BUSY: Text("attend une machine libre", "waiting for a free machine"),
    scheduler.PINNED_BUSY: Text("sa machine est occupée", "its machine is busy"),
    scheduler.PINNED_UNAVAILABLE: Text("sa machine est indisponible", "its machine is unavailable"),
}

OPERATIONS: dict[str, Text] = {
    "cut": Text("Découpe", "Cut"),
    "score": Text("Marquage", "Score"),
    "engrave": Text("Gravure", "Engrave"),
}

KINDS: dict[str, Text] = {"printer": Text("Imprimante 3D", "3D printer"), "laser": Text("Laser", "Laser")}

ROLES: dict[str, Text] = {
    "admin": Text("Administration", "Admin"),
    "trainer": Text("Formateur·rice", "Trainer"),
    "operator": Text("Opérateur·rice", "Operator"),
    "tigiste": Text("Tigiste", "Tigiste"),
}


def word(table: dict[str, Text], code: str | None, lang: Lang) -> str:
    """The label for `code`, or the code itself when it has none (never an empty cell)."""
    if code is None:
        return ""
    text = table.get(code)
    return text.in_(lang) if text else code


def labels(lang: Lang) -> dict[str, dict[str, str]]:
    """All labels in one language, for the templates and for app.js (live updates)."""
    return {
        name: {code: text.in_(lang) for code, text in table.items()}
        for name, table in (
            ("job", JOB_STATES),
            ("machine", MACHINE_STATES),
            ("severity", SEVERITIES),
            ("waiting", WAITING),
            ("operation", OPERATIONS),
            ("kind", KINDS),
            ("role", ROLES),
        )
    }
