"""The G-code safety policy of one machine: which lines may reach its firmware, one line at a time.

The same `LinePolicy` runs at every gate: on upload (`gcode.validate_gcode`), after preparation
(`toolpath/prepare.py`), and in the drivers on each line just before it is written to the machine
(`machines/gate.py`), so the three can never disagree. It is stateful (laser on/off and its power are
modal on Grbl): build one per file or per job and feed it every line in order.

What it refuses: any temperature above the machine's limits (`S`, `R` and the autotemp `B` of
M104/M109/M140/M190/M141/M191, for any tool `T`), heating syntax it cannot read for sure (a word
without value, a preset index `I`, an unknown parameter, a value a C `strtod` would read further such
as `2.6e2` or `0x1A0`, other firmwares' heating: RepRapFirmware's G10 temperatures, M568, M143,
Klipper-style macros), laser power (`S`, wherever it is written, never with an exponent) above the
machine's maximum, commands that change firmware, EEPROM or heater settings (M86 idle temperatures
included), lock the printer, resume an SD print, run stored code or drive pins, speed or flow factors
above 200 %, Grbl `$` system commands, and any line the firmware could read in more than one way (see
`gcode_parse.py`; any non-ASCII character before the comment, even at the line's ends, so no Grbl
real-time byte >= 0x80 ever goes out inside a line).

Must import nothing but `specs`, `i18n` and the parser: the drivers import it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fablabctl.i18n import Text
from fablabctl.specs import MachineSpec
from fablabctl.validation.gcode_parse import Command, Dialect, parse_line, shown

CHAMBER_MAX_C = 60.0  # no printer of the lab has a heated chamber rated above this
FACTOR_MAX = 200.0  # M220 speed and M221 flow factors, in %: more than this only grinds or jams
# Marlin keeps MAX_CMD_SIZE - 1 = 95 bytes of a line (queue.cpp skips the rest), and the host adds
# `N<up to 7 digits> ` and `*<up to 3 digits>`: a longer command loses its checksum on the way, and the
# job fails on resends it can never win
MARLIN_MAX_COMMAND = 95 - len("N9999999 ") - len("*255")

AMBIGUOUS = "GCODE_AMBIGUOUS_SYNTAX"
FORBIDDEN = "GCODE_FORBIDDEN_COMMAND"
TOO_HOT = {"hotend": "GCODE_HOTEND_TOO_HOT", "bed": "GCODE_BED_TOO_HOT", "chamber": "GCODE_CHAMBER_TOO_HOT"}
POWER = "GCODE_LASER_POWER_TOO_HIGH"
BURNING_STILL = "GCODE_LASER_ON_WITHOUT_MOTION"

# heating command -> (heater, parameters it may carry); S, R and B are temperatures, T a tool, F autotemp
HEATING = {
    "M104": ("hotend", "SBFT"),
    "M109": ("hotend", "SRBFT"),
    "M140": ("bed", "S"),
    "M190": ("bed", "SR"),
    "M141": ("chamber", "S"),
    "M191": ("chamber", "SR"),
}
TEMPERATURE_WORDS = "SRB"
HEATERS_FR = {"hotend": "la buse", "bed": "le plateau", "chamber": "le caisson"}
EEPROM = Text("écrit ou recharge les réglages en EEPROM", "writes or reloads settings in EEPROM")
HEATER_SETTINGS = Text(
    "change le réglage des chauffes : réservé à l'opérateur", "changes heater tuning: operator only"
)
SD = Text(
    "commande de carte SD (lancer, écrire ou effacer un fichier) : hors du contrôle de fablabctl",
    "SD card command (start, write or delete a file): outside fablabctl's control",
)
OPERATOR = Text("réservé à l'opérateur", "operator only")
PRINTER_FORBIDDEN: dict[str, Text] = {
    **dict.fromkeys(("M500", "M501", "M502", "M504"), EEPROM),
    "M997": Text("lance une mise à jour du firmware", "starts a firmware update"),
    "M112": Text("arrêt d'urgence : réservé à l'opérateur", "emergency stop: operator only"),
    "M999": Text(
        "relance l'imprimante après un arrêt de sécurité : réservé à l'opérateur",
        "restarts the printer after a safety halt: operator only",
    ),
    **dict.fromkeys(("M303", "M301", "M304", "M305", "M306", "M309", "M86"), HEATER_SETTINGS),
    **dict.fromkeys(
        ("M568", "M143", "M307", "M570"),
        Text(
            "chauffe d'un autre firmware (RepRapFirmware) : sa température n'est pas vérifiable ici",
            "heater command of another firmware (RepRapFirmware): its temperature cannot be checked here",
        ),
    ),
    "G76": Text(
        "calibration qui chauffe le plateau et la sonde à ses propres températures : réservé à l'opérateur",
        "calibration that heats the bed and probe to its own temperatures: operator only",
    ),
    "M1000": Text(
        "reprend une impression interrompue depuis la carte SD : hors du contrôle de fablabctl",
        "resumes an interrupted print from the SD card: outside fablabctl's control",
    ),
    **dict.fromkeys(
        ("M510", "M511", "M512"),
        Text(
            "verrouille l'imprimante ou change son mot de passe", "locks the printer or changes its password"
        ),
    ),
    **dict.fromkeys(
        ("M993", "M994"),
        Text(
            "sauvegarde ou restaure la mémoire flash (réglages, firmware)",
            "backs up or restores the flash memory (settings, firmware)",
        ),
    ),
    "M995": Text(
        "calibration de l'écran tactile : " + OPERATOR.fr, "touch screen calibration: " + OPERATOR.en
    ),
    **dict.fromkeys(
        ("M552", "M553", "M554"),
        Text("change les réglages réseau de l'imprimante", "changes the printer's network settings"),
    ),
    "G26": Text(
        "motif de calibration qui chauffe à ses propres températures : réservé à l'opérateur",
        "calibration pattern that heats to its own temperatures: operator only",
    ),
    "M145": Text(
        "change les préréglages de température des matériaux", "changes the material temperature presets"
    ),
    "M149": Text("change l'unité des températures", "changes the temperature unit"),
    **dict.fromkeys(("M23", "M24", "M28", "M29", "M30", "M32", "M33", "M34", "M524", "M928"), SD),
    **dict.fromkeys(
        tuple(f"M{n}" for n in range(810, 820)),
        Text(
            "macro G-code enregistrée dans l'imprimante : son contenu échapperait au contrôle",
            "G-code macro stored in the printer: its content would escape the checks",
        ),
    ),
    "M118": Text(
        "écrit sur la liaison série : pourrait imiter une réponse du firmware",
        "prints to the serial line: could imitate a firmware reply",
    ),
    **dict.fromkeys(
        ("M42", "M43", "M226", "M260", "M261", "M351"),
        Text(
            "commande directement les broches de la carte (dont les chauffes)",
            "drives board pins directly (heaters included)",
        ),
    ),
    "M100": Text("commande de débogage de la mémoire", "memory debugging command"),
    "M110": Text("change la numérotation des lignes de l'hôte", "changes the host's line numbering"),
    "M111": Text("change le mode de débogage du firmware", "changes the firmware's debug mode"),
    "M575": Text("change la vitesse de la liaison série", "changes the serial speed"),
    "M350": Text("change le micro-pas des moteurs", "changes motor microstepping"),
    "M121": Text("désactive les fins de course", "disables the endstops"),
    "M211": Text("change les butées logicielles", "changes the software endstops"),
    **dict.fromkeys(
        ("M80", "M81"), Text("alimentation de la machine : " + OPERATOR.fr, "power supply: " + OPERATOR.en)
    ),
    **dict.fromkeys(
        ("M3", "M4", "M7", "M8", "M10"),
        Text("commande de laser, de broche ou de refroidissement", "laser, spindle or coolant command"),
    ),
    "$": Text("commande système Grbl sur une imprimante", "Grbl system command on a printer"),
    "@": Text(
        "commande d'hôte OctoPrint : hors du contrôle de fablabctl",
        "OctoPrint host command: outside fablabctl's control",
    ),
}
GRBL_SYSTEM = Text(
    "commande système Grbl (réglages, déverrouillage, origine, jog, lignes de démarrage) : "
    "réservée à l'opérateur",
    "Grbl system command (settings, unlock, homing, jog, startup lines): operator only",
)
GRBL_STARTUP = Text(
    "ligne de démarrage Grbl ($N) : elle serait exécutée à chaque mise sous tension",
    "Grbl startup line ($N): it would run at every power-up",
)
GRBL_EEPROM_POSITION = Text("écrit une position en EEPROM", "writes a position to EEPROM")
LASER_FORBIDDEN: dict[str, Text] = {
    "$": GRBL_SYSTEM,
    "G10": Text("écrit des origines en EEPROM (G10 L2/L20)", "writes work offsets to EEPROM (G10 L2/L20)"),
    "G28.1": GRBL_EEPROM_POSITION,
    "G30.1": GRBL_EEPROM_POSITION,
}
# other G codes only get Grbl's error:20; these run stored code on grblHAL-like firmwares
GRBL_MACROS = frozenset({"G65", "G66", "G67"})
GRBL_M = frozenset(["M0", "M1", "M2", "M30", "M3", "M4", "M5", "M7", "M8", "M9", "M56"])
# settings a slicer may set for the print (a warning, not a refusal): they last until the next reset
# fmt: off
PERSISTENT_SETTINGS = frozenset({
    "M92", "M201", "M203", "M204", "M205", "M206", "M217", "M218", "M302", "M413", "M540", "M710",
    "M851", "M906", "M907", "M913", "M914",
})
# fmt: on
HINTS = {
    AMBIGUOUS: Text(
        "Écrivez la commande simplement : une lettre et un nombre par mot (ex. « M104 S210 »), "
        "une commande par ligne.",
        "Write the command plainly: one letter and one number per word (e.g. 'M104 S210'), "
        "one command per line.",
    ),
    FORBIDDEN: Text("Retirez cette ligne du fichier.", "Remove this line from the file."),
    POWER: Text(
        "Baissez la puissance (S) ou choisissez une autre machine.",
        "Lower the power (S) or pick another machine.",
    ),
    BURNING_STILL: Text(
        "Éteignez le laser (M5 ou S0) avant une pause.", "Turn the laser off (M5 or S0) before a dwell."
    ),
}
HOT_HINT = Text(
    "Choisissez une température permise ou une autre machine.",
    "Use an allowed temperature or another machine.",
)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why one line may not reach the machine: a stable code and a message naming the line."""

    code: str
    line: int
    text: str  # the line, as shown to people
    why: Text

    @property
    def message(self) -> Text:
        return Text(
            f"Ligne {self.line} : « {self.text} » refusée : {self.why.fr}.",
            f"Line {self.line}: '{self.text}' refused: {self.why.en}.",
        )

    @property
    def hint(self) -> Text:
        return HINTS.get(self.code, HOT_HINT)


@dataclass(frozen=True, slots=True)
class Verdict:
    command: Command | None  # None for a blank or comment line
    refusal: Refusal | None = None
    changes_settings: bool = False

    @property
    def ok(self) -> bool:
        return self.refusal is None


class LinePolicy:
    """Feed it every line in order; `check` says whether that line may go to the machine."""

    def __init__(self, machine: MachineSpec) -> None:
        self.machine = machine
        self.dialect: Dialect = "grbl" if machine.kind == "laser" else "marlin"
        self.power_limit = min(machine.laser_max_power_s, machine.laser_s_max)
        self.limits = {"hotend": machine.max_hotend_c, "bed": machine.max_bed_c, "chamber": CHAMBER_MAX_C}
        self.laser_on = False  # M3/M4 active (modal)
        self.laser_s = 0.0  # S is modal on Grbl

    def check(self, text: str, line: int) -> Verdict:
        command = parse_line(line, text, self.dialect)
        if command is None:
            return Verdict(None)
        if self.dialect == "marlin":
            why = self._refusal(command, len(text.split(";", 1)[0].strip()))
        else:
            why = self._laser_refusal(command)
        if why is not None:
            code, reason = why
            return Verdict(command, Refusal(code, line, command.raw or shown(text), reason))
        return Verdict(command, changes_settings=command.code in PERSISTENT_SETTINGS)

    # ------------------------------------------------------------------ printers (Marlin)

    def _refusal(self, cmd: Command, length: int) -> tuple[str, Text] | None:
        if cmd.problem is not None:
            return AMBIGUOUS, cmd.problem
        if cmd.code in PRINTER_FORBIDDEN:
            return FORBIDDEN, PRINTER_FORBIDDEN[cmd.code]
        if length > MARLIN_MAX_COMMAND:
            return AMBIGUOUS, Text(
                f"ligne de plus de {MARLIN_MAX_COMMAND} caractères : Marlin la couperait",
                f"line longer than {MARLIN_MAX_COMMAND} characters: Marlin would cut it",
            )
        if len(cmd.codes) > 1:
            return AMBIGUOUS, Text(
                f"plusieurs commandes sur une ligne ({' '.join(cmd.codes)}) : Marlin n'en lit qu'une",
                f"several commands on one line ({' '.join(cmd.codes)}): Marlin reads only one",
            )
        if cmd.code.startswith(("M", "T")) and "." in cmd.code:
            return AMBIGUOUS, Text(f"sous-commande inconnue {cmd.code}", f"unknown sub-command {cmd.code}")
        if cmd.code.startswith("T") and int(cmd.code[1:]) > 15:
            return AMBIGUOUS, Text(f"outil {cmd.code} inconnu", f"unknown tool {cmd.code}")
        if cmd.code in HEATING:
            return self._heating(cmd)
        return self._other(cmd)

    def _other(self, cmd: Command) -> tuple[str, Text] | None:
        """Lines that only look harmless: RepRapFirmware's G10 temperatures, Klipper-style macros,
        an `M110` inside a message (Marlin finds it anywhere in the line and renumbers), big factors."""
        if cmd.code == "G10" and (
            set(cmd.words) - {"S"} or cmd.flags or cmd.params.get("S", 0) not in (0, 1)
        ):
            return AMBIGUOUS, Text(
                "G10 avec des paramètres : sur RepRapFirmware il règle les températures d'un outil",
                "G10 with parameters: on RepRapFirmware it sets a tool's temperatures",
            )
        if not cmd.codes:  # `HEAT` (a Klipper macro), `P000` (Marlin's real-time pause), `X10` (modal)
            return AMBIGUOUS, Text(
                "ligne sans commande G, M ou T (macro ou commande d'un autre firmware ?)",
                "line with no G, M or T command (another firmware's macro or command?)",
            )
        if cmd.code.startswith("M112"):  # Marlin's emergency parser kills on `M112` + anything
            return FORBIDDEN, PRINTER_FORBIDDEN["M112"]
        if cmd.text_arg is not None and "M110" in cmd.text_arg.upper():
            return AMBIGUOUS, Text(
                "« M110 » dans le texte : Marlin le lirait comme un changement de numéro de ligne",
                "'M110' in the text: Marlin would read it as a line number change",
            )
        factor = cmd.params.get("S")
        if cmd.code in ("M220", "M221") and factor is not None and factor > FACTOR_MAX:
            what = ("vitesse", "speed") if cmd.code == "M220" else ("débit", "flow")
            return FORBIDDEN, Text(
                f"facteur de {what[0]} {factor:g} % au-dessus de {FACTOR_MAX:g} %",
                f"{what[1]} factor {factor:g} % above {FACTOR_MAX:g} %",
            )
        return None

    def _heating(self, cmd: Command) -> tuple[str, Text] | None:
        heater, allowed = HEATING[cmd.code]
        for letter in cmd.words:
            if letter not in allowed:
                extra = " (préréglage : température inconnue ici)" if letter == "I" else ""
                extra_en = " (a preset: its temperature is unknown here)" if letter == "I" else ""
                return AMBIGUOUS, Text(
                    f"paramètre {letter} inattendu sur {cmd.code}{extra}",
                    f"unexpected parameter {letter} on {cmd.code}{extra_en}",
                )
            if letter in cmd.flags:
                return AMBIGUOUS, Text(
                    f"{letter} sans valeur sur {cmd.code}", f"{letter} without a value on {cmd.code}"
                )
            if letter in cmd.loose:
                return AMBIGUOUS, Text(
                    f"valeur de {letter} illisible (exposant ou hexadécimal ?)",
                    f"unreadable {letter} value (exponent or hexadecimal?)",
                )
        tool = cmd.params.get("T")
        if tool is not None and (tool != int(tool) or not 0 <= tool <= 15):
            return AMBIGUOUS, Text(f"numéro d'outil T{tool:g} invalide", f"invalid tool number T{tool:g}")
        if "F" in cmd.params and "B" not in cmd.params:
            return AMBIGUOUS, Text(
                "autotemp (F) sans maximum B : la température dépendrait d'un ancien réglage",
                "autotemp (F) without a B maximum: the temperature would depend on an old setting",
            )
        limit = self.limits[heater]
        for letter in TEMPERATURE_WORDS:
            value = cmd.params.get(letter)
            if value is not None and value > limit:
                return TOO_HOT[heater], Text(
                    f"{HEATERS_FR[heater]} à {value:g} °C, maximum {limit:g} °C sur {self.machine.name}",
                    f"{heater} at {value:g} °C, {self.machine.name} allows {limit:g} °C",
                )
        return None

    # ------------------------------------------------------------------ lasers (Grbl)

    def _laser_refusal(self, cmd: Command) -> tuple[str, Text] | None:
        if cmd.problem is not None:
            return AMBIGUOUS, cmd.problem
        if cmd.code == "@":
            return FORBIDDEN, PRINTER_FORBIDDEN["@"]
        if cmd.code == "$":
            startup = (cmd.text_arg or "").upper().startswith("N")
            return FORBIDDEN, GRBL_STARTUP if startup else GRBL_SYSTEM
        for code in cmd.codes:
            if code in LASER_FORBIDDEN:
                return FORBIDDEN, LASER_FORBIDDEN[code]
            if (code.startswith("M") and code not in GRBL_M) or code in GRBL_MACROS:
                return FORBIDDEN, Text(
                    f"{code} inconnu de Grbl 1.1 (sur d'autres firmwares : sorties, macros)",
                    f"{code} is not a Grbl 1.1 command (on other firmwares: outputs, macros)",
                )
        if "S" in cmd.flags:
            return AMBIGUOUS, Text("S sans valeur", "S without a value")
        if "S" in cmd.loose:
            return AMBIGUOUS, Text("valeur de S illisible (exposant ?)", "unreadable S value (an exponent?)")
        # Grbl's order inside a block: S, then M3/M4/M5, then a dwell
        if "S" in cmd.params:
            self.laser_s = cmd.params["S"]
            if self.laser_s > self.power_limit:
                return POWER, Text(
                    f"puissance S{self.laser_s:g} au-dessus du maximum S{self.power_limit} "
                    f"de {self.machine.name}",
                    f"power S{self.laser_s:g} above {self.machine.name}'s maximum S{self.power_limit}",
                )
        if "M3" in cmd.codes or "M4" in cmd.codes:
            self.laser_on = True
        if "M5" in cmd.codes or any(c in cmd.codes for c in ("M2", "M30")):
            self.laser_on = False
        if "G4" in cmd.codes and self.laser_on and self.laser_s > 0:
            return BURNING_STILL, Text(
                "le laser reste allumé pendant une pause : risque de feu",
                "the laser stays on during a dwell: fire risk",
            )
        return None


def check_lines(machine: MachineSpec, lines: list[str]) -> Refusal | None:
    """The first refused line of a whole text (numbered from 1), or None: for pre-checks."""
    policy = LinePolicy(machine)
    for number, text in enumerate(lines, start=1):
        refusal = policy.check(text, number).refusal
        if refusal is not None:
            return refusal
    return None
