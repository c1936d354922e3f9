"""Grbl 1.1's serial protocol: pure tables and parsers, no I/O.

Error and alarm meanings follow Grbl's own `error_codes_en_US.csv` and `alarm_codes_en_US.csv`,
with French translations for the operators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fablabctl.i18n import Text

RX_BUFFER = 128
REALTIME_STATUS, REALTIME_HOLD, REALTIME_RESUME, REALTIME_RESET = b"?", b"!", b"~", b"\x18"
BANNER = re.compile(r"^Grbl (\d+\.\d+\w*)")
# commands that write EEPROM: sent alone, after the buffer drains (Grbl pauses serial while writing)
EEPROM_WRITES = re.compile(r"^\s*(\$\d+\s*=|\$RST|\$I\s*=|\$N\d*\s*=|G10\s*L2|G10\s*L20|G28\.1|G30\.1)", re.I)

ERRORS: dict[int, Text] = {
    1: Text(
        "Lettre de commande attendue.", "G-code words consist of a letter and a value. Letter was not found."
    ),
    2: Text(
        "Format de nombre invalide.",
        "Missing the expected G-code word value or numeric value format is not valid.",
    ),
    3: Text("Commande système '$' invalide.", "Grbl '$' system command was not recognized or supported."),
    4: Text("Valeur négative interdite.", "Negative value received for an expected positive value."),
    5: Text(
        "Retour à l'origine non activé ($22).", "Homing cycle failure. Homing is not enabled via settings."
    ),
    6: Text("Impulsion de pas trop courte (< 3 µs).", "Minimum step pulse time must be greater than 3usec."),
    7: Text(
        "Lecture EEPROM échouée : réglages par défaut restaurés.",
        "An EEPROM read failed. Auto-restoring affected EEPROM to default values.",
    ),
    8: Text(
        "Commande '$' refusée : la machine n'est pas au repos.",
        "Grbl '$' command cannot be used unless Grbl is IDLE.",
    ),
    9: Text(
        "G-code verrouillé : machine en alarme ou en jog.",
        "G-code commands are locked out during alarm or jog state.",
    ),
    10: Text(
        "Limites logicielles sans retour à l'origine.",
        "Soft limits cannot be enabled without homing also enabled.",
    ),
    11: Text(
        "Ligne trop longue.", "Max characters per line exceeded. Received command line was not executed."
    ),
    12: Text(
        "Fréquence de pas trop élevée.",
        "Grbl '$' setting value cause the step rate to exceed the maximum supported.",
    ),
    13: Text("Porte de sécurité ouverte.", "Safety door detected as opened and door state initiated."),
    14: Text(
        "Ligne trop longue pour l'EEPROM.", "Build info or startup line exceeded EEPROM line length limit."
    ),
    15: Text(
        "Déplacement hors de la course de la machine.",
        "Jog target exceeds machine travel. Jog command has been ignored.",
    ),
    16: Text("Commande de jog invalide.", "Jog command has no '=' or contains prohibited g-code."),
    17: Text("Le mode laser exige une sortie PWM.", "Laser mode requires PWM output."),
    20: Text("Commande G-code non prise en charge.", "Unsupported or invalid g-code command found in block."),
    21: Text(
        "Deux commandes du même groupe modal dans la ligne.",
        "More than one g-code command from same modal group found in block.",
    ),
    22: Text("Vitesse d'avance (F) non définie.", "Feed rate has not yet been set or is undefined."),
    23: Text("La commande exige un entier.", "G-code command in block requires an integer value."),
    24: Text(
        "Plusieurs commandes utilisent les axes.",
        "More than one g-code command that requires axis words found in block.",
    ),
    25: Text("Mot G-code répété.", "Repeated g-code word found in block."),
    26: Text(
        "Aucun axe dans une commande qui en exige.",
        "No axis words found in block for g-code command that requires them.",
    ),
    27: Text("Numéro de ligne invalide.", "Line number value is invalid."),
    28: Text("Valeur manquante.", "G-code command is missing a required value word."),
    29: Text(
        "Systèmes de coordonnées G59.x non pris en charge.",
        "G59.x work coordinate systems are not supported.",
    ),
    30: Text("G53 seulement avec G0 ou G1.", "G53 only allowed with G0 and G1 motion modes."),
    31: Text("Axes interdits dans cette commande.", "Axis words found in block when no command uses them."),
    32: Text("Arc sans axe dans le plan.", "G2 and G3 arcs require at least one in-plane axis word."),
    33: Text("Cible de mouvement invalide.", "Motion command target is invalid."),
    34: Text("Erreur de rayon d'arc.", "Arc radius value is invalid."),
    35: Text("Arc sans décalage dans le plan.", "G2 and G3 arcs require at least one in-plane offset word."),
    36: Text("Mots de valeur inutilisés.", "Unused value words found in block."),
    37: Text(
        "Compensation d'outil G43.1 sur un mauvais axe.",
        "G43.1 dynamic tool length offset is not assigned to configured tool length axis.",
    ),
    38: Text("Numéro d'outil trop grand.", "Tool number greater than max supported value."),
}
ALARMS: dict[int, Text] = {
    1: Text(
        "Fin de course matérielle touchée : position perdue, refaites l'origine.",
        "Hard limit triggered. Machine position is likely lost due to sudden halt. "
        "Re-homing is highly recommended.",
    ),
    2: Text(
        "Cible hors de la course (limite logicielle) : position conservée, déverrouillez.",
        "Soft limit alarm. G-code motion target exceeds machine travel. Alarm may be safely unlocked.",
    ),
    3: Text(
        "Réinitialisation pendant un mouvement : position perdue, refaites l'origine.",
        "Reset while in motion. Machine position is likely lost due to sudden halt. "
        "Re-homing is highly recommended.",
    ),
    4: Text(
        "Sonde : pas dans l'état attendu avant le cycle.",
        "Probe fail. Probe is not in the expected initial state before starting probe cycle.",
    ),
    5: Text(
        "Sonde : aucun contact.",
        "Probe fail. Probe did not contact the workpiece within the programmed travel.",
    ),
    6: Text(
        "Origine : cycle interrompu par une réinitialisation.",
        "Homing fail. The active homing cycle was reset.",
    ),
    7: Text(
        "Origine : porte de sécurité ouverte.", "Homing fail. Safety door was opened during homing cycle."
    ),
    8: Text(
        "Origine : le fin de course ne se libère pas.",
        "Homing fail. Pull off travel failed to clear limit switch.",
    ),
    9: Text(
        "Origine : fin de course introuvable.",
        "Homing fail. Could not find limit switch within search distances.",
    ),
}


def error_text(code: int) -> Text:
    meaning = ERRORS.get(code, Text("erreur inconnue", "unknown error"))
    return Text(f"error:{code} — {meaning.fr}", f"error:{code} — {meaning.en}")


def alarm_text(code: int) -> Text:
    meaning = ALARMS.get(code, Text("alarme inconnue", "unknown alarm"))
    return Text(f"ALARM:{code} — {meaning.fr}", f"ALARM:{code} — {meaning.en}")


@dataclass(frozen=True, slots=True)
class StatusReport:
    state: str  # Idle, Run, Hold:0, Jog, Alarm, Door:0, Check, Home, Sleep
    mpos: tuple[float, ...] | None = None
    wpos: tuple[float, ...] | None = None
    wco: tuple[float, ...] | None = None
    planner_free: int | None = None
    rx_free: int | None = None
    feed: float | None = None
    spindle: float | None = None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def base_state(self) -> str:
        return self.state.split(":")[0]


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(v) for v in text.split(","))


def parse_status(line: str) -> StatusReport | None:
    """`<Idle|MPos:0.000,0.000,0.000|Bf:15,128|FS:0,0>` -> StatusReport (None if not a report)."""
    if not (line.startswith("<") and line.endswith(">")):
        return None
    parts = line[1:-1].split("|")
    fields = dict(p.split(":", 1) for p in parts[1:] if ":" in p)
    bf = _floats(fields["Bf"]) if "Bf" in fields else None
    fs = _floats(fields["FS"]) if "FS" in fields else (_floats(fields["F"]) if "F" in fields else None)
    return StatusReport(
        state=parts[0],
        mpos=_floats(fields["MPos"]) if "MPos" in fields else None,
        wpos=_floats(fields["WPos"]) if "WPos" in fields else None,
        wco=_floats(fields["WCO"]) if "WCO" in fields else None,
        planner_free=int(bf[0]) if bf else None,
        rx_free=int(bf[1]) if bf else None,
        feed=fs[0] if fs else None,
        spindle=fs[1] if fs and len(fs) > 1 else None,
        fields=fields,
    )


def parse_settings(lines: list[str]) -> dict[int, str]:
    """`$32=1` lines from `$$` -> {32: "1"}."""
    settings = {}
    for line in lines:
        match = re.match(r"^\$(\d+)=(\S+)", line)
        if match:
            settings[int(match.group(1))] = match.group(2)
    return settings


def clean(line: str) -> str:
    """What goes on the wire: no comments, no spaces (Grbl ignores them; fewer bytes in its small buffer)."""
    line = re.sub(r"\([^)]*\)", "", line.split(";", 1)[0])
    return (
        line.replace(" ", "").replace("\t", "").upper() if not line.strip().startswith("$") else line.strip()
    )
