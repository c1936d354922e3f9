"""What a tigiste practised, as PIX competences: from attendance phases and job contributions.

The mapping follows the TIG pédagogique numérique programme: the information collective, the
digital-skills training, then fabrication in the Fab Lab; each job kind adds its activities.
"""

from __future__ import annotations

PIX_COMPETENCES: dict[str, str] = {
    "1.1": "Mener une recherche et une veille d'information",
    "1.2": "Gérer des données",
    "2.2": "Partager et publier",
    "2.3": "Collaborer",
    "2.4": "S'insérer dans le monde numérique",
    "3.2": "Développer des documents multimédia",
    "3.3": "Adapter les documents à leur finalité",
    "4.1": "Sécuriser l'environnement numérique",
    "4.2": "Protéger les données personnelles et la vie privée",
    "4.3": "Protéger la santé, le bien-être et l'environnement",
    "5.1": "Résoudre des problèmes techniques",
}
PHASE_COMPETENCES: dict[str, tuple[str, ...]] = {
    "information": ("2.4",),
    "formation": ("1.1", "1.2", "2.2", "4.1", "4.2"),
    "fabrication": ("2.3", "4.3", "5.1"),
}
ACTIVITY_COMPETENCES: dict[str, tuple[str, ...]] = {
    "modélisation 3D": ("3.2",),
    "tranchage": ("3.3", "5.1"),
    "impression 3D": ("4.3", "5.1"),
    "dessin vectoriel": ("3.2",),
    "découpe laser": ("4.3", "5.1"),
    "assemblage": ("2.3",),
}


def activities(kind: str, role: str) -> tuple[str, ...]:
    """The activities a contribution to a job of this kind stands for."""
    if role == "assembled":
        return ("assemblage",)
    if kind == "printer":
        return {"designed": ("modélisation 3D",), "prepared": ("tranchage",)}.get(
            role, ("modélisation 3D", "tranchage", "impression 3D")
        )
    return {"designed": ("dessin vectoriel",), "prepared": ("découpe laser",)}.get(
        role, ("dessin vectoriel", "découpe laser")
    )


def practised(phases: set[str], contributions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(code, name) of the PIX competences practised, in PIX order."""
    codes: set[str] = set()
    for phase in phases:
        codes.update(PHASE_COMPETENCES.get(phase, ()))
    for kind, role in contributions:
        for activity in activities(kind, role):
            codes.update(ACTIVITY_COMPETENCES[activity])
    return [(code, PIX_COMPETENCES[code]) for code in sorted(codes)]
