"""Why a job is where it is, as a stable code with parameters, rendered in the reader's language.

The service never stores a reason as one joined "fr / en" string: it stores the code and its
parameters (`jobs.reason_code`, `jobs.reason_params`, the same on `job_events`) and each reader
gets the sentence in their language. A reason a person typed (a trainer rejecting or cancelling)
has no code and is shown as typed. A machine's or the toolpath's own coded message keeps its code
and carries its two sentences as parameters (`fr`, `en`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fablabctl.i18n import Lang, Text
from fablabctl.queue import scheduler

KIND_NAMES = {
    "printer": Text("imprimante 3D", "3D printer"),
    "laser": Text("découpeuse laser", "laser cutter"),
}

# queued jobs that no machine of the site can take: the scheduler's own codes, and the laser source
NO_MACHINE = scheduler.NO_MACHINE
TOO_LARGE = scheduler.TOO_LARGE
NO_MATERIAL = scheduler.NO_MATERIAL
MAINTENANCE = scheduler.MAINTENANCE
PINNED_UNAVAILABLE = scheduler.PINNED_UNAVAILABLE
NO_LASER_SOURCE = "NO_LASER_SOURCE"
BLOCKED_CODES = frozenset(
    {NO_MACHINE, TOO_LARGE, NO_MATERIAL, MAINTENANCE, PINNED_UNAVAILABLE, NO_LASER_SOURCE}
)

TEXTS: dict[str, Text] = {
    NO_MACHINE: Text(
        "aucune machine de ce site n'est une {kind_fr} : ajoutez-en une ou envoyez le travail ailleurs",
        "no machine of this site is a {kind_en}: add one or send the job elsewhere",
    ),
    TOO_LARGE: Text(
        "la pièce ({size}) est trop grande pour toutes les machines ({kind_fr}) du site",
        "the part ({size}) is too large for every {kind_en} of the site",
    ),
    NO_MATERIAL: Text(
        "aucune machine ({kind_fr}) du site n'accepte le matériau « {material} »",
        "no {kind_en} of the site accepts the material '{material}'",
    ),
    MAINTENANCE: Text(
        "toutes les machines ({kind_fr}) du site sont en maintenance",
        "every {kind_en} of the site is under maintenance",
    ),
    PINNED_UNAVAILABLE: Text(
        "la machine demandée (n° {machine_id}) n'existe plus ou est en maintenance",
        "the machine asked for (#{machine_id}) is gone or under maintenance",
    ),
    NO_LASER_SOURCE: Text(
        "il faut un laser {source} pour « {material} », et le site n'en a pas",
        "'{material}' needs a {source} laser, and the site has none",
    ),
    "CANCELLED_BEFORE_START": Text("annulé avant le départ", "cancelled before the start"),
    "INTERNAL_ERROR": Text(
        "erreur interne du service ({kind}) : voir le journal du service",
        "internal service error ({kind}): see the service log",
    ),
    "MACHINE_UNREACHABLE": Text(
        "machine injoignable depuis plus de {seconds} s : travail perdu",
        "machine unreachable for more than {seconds} s: job lost",
    ),
    "MACHINE_FAILED": Text("la machine a signalé un échec", "the machine reported a failure"),
    "SERVICE_RESTARTED": Text("service redémarré : remis en file", "service restarted: queued again"),
    "INTERRUPTED_BY_RESTART": Text(
        "interrompu par un redémarrage du service : vérifiez la pièce",
        "interrupted by a service restart: check the part",
    ),
    "REATTACHED": Text(
        "service redémarré, impression reprise en cours sur la machine",
        "service restarted, print re-attached",
    ),
    "FOLLOWED_AGAIN": Text(
        "le suivi du travail s'était arrêté : repris, la machine continue",
        "the job's follower had stopped: following again, the machine goes on",
    ),
    "FOLLOWER_LOST": Text(
        "le suivi du travail s'est arrêté (erreur interne) : vérifiez la pièce",
        "the job's follower stopped (internal error): check the part",
    ),
    "FOLLOWER_LOST_BEFORE_START": Text(
        "le suivi du travail s'est arrêté avant le départ : remis en file",
        "the job's follower stopped before the start: queued again",
    ),
    "CLAIMED": Text("pris par la machine n° {machine_id}", "taken by machine #{machine_id}"),
    "COPY": Text("copie {number}/{quantity}", "copy {number}/{quantity}"),
    "RETRY_OF": Text("nouvel essai du travail {job_id}", "new attempt of job {job_id}"),
}


@dataclass(frozen=True, slots=True)
class Reason:
    """A reason the service gives: a code from `TEXTS` (or a coded message with `fr`/`en` params)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def message(cls, code: str, text: Text) -> Reason:
        """A machine's or the toolpath's own coded message, kept in both languages."""
        return cls(code, {"fr": text.fr, "en": text.en})

    def text(self) -> Text:
        return text_of(self.code, self.params) or Text(self.code, self.code)


def _values(params: dict[str, Any]) -> dict[str, Any]:
    values = dict(params)
    kind = KIND_NAMES.get(str(params.get("kind", "")))
    values["kind_fr"] = kind.fr if kind else params.get("kind", "")
    values["kind_en"] = kind.en if kind else params.get("kind", "")
    size = params.get("size_mm")
    if isinstance(size, list | tuple):
        values["size"] = " × ".join(f"{float(v):g}" for v in size if float(v) > 0) + " mm"
    return values


def text_of(code: str | None, params: dict[str, Any] | None) -> Text | None:
    """The sentence of a coded reason, or None when it has no code (typed by a person)."""
    if code is None:
        return None
    params = params or {}
    if isinstance(params.get("fr"), str) and isinstance(params.get("en"), str):  # a coded message
        return Text(params["fr"], params["en"])
    if code in TEXTS:
        try:
            return TEXTS[code].format(**_values(params))
        except (KeyError, IndexError, ValueError):  # parameters of an older version: say the code
            return Text(code, code)
    return Text(code, code)


def render(code: str | None, params: dict[str, Any] | None, stored: str | None, lang: Lang) -> str | None:
    """What a reader sees: the coded reason in their language, else the text as stored."""
    text = text_of(code, params)
    return text.in_(lang) if text is not None else stored


def split(reason: str | Reason | None) -> tuple[str | None, str | None, dict[str, Any] | None]:
    """(stored text, code, parameters): a coded reason is stored in French too, for plain readers."""
    if isinstance(reason, Reason):
        return reason.text().fr, reason.code, dict(reason.params)
    return reason, None, None
