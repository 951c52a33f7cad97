"""Station commands as barcodes: every action at a station can be scanned, so a parcel goes to
its bin without a tap (the printed command sheet of each station lists them).

A command is one of `Command` (`CMD-…`) or a checklist toggle `CHECK-<ITEM>`. Their prefixes
never start an RMA, LPN, GTIN, tracking number or grade code, and no bin may use them
(`warehouse.codes.is_station_code`), so a scanned code means one thing only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from labels.sheets import SheetRow
from warehouse.checklists import CHECKLIST_LABELS
from warehouse.codes import STATION_CODE_PREFIXES
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l

COMMAND_PREFIX, CHECK_PREFIX = STATION_CODE_PREFIXES[:2]


class Command(enum.StrEnum):
    """A station action, as the text of its barcode."""

    CLOSE = "CMD-CLOSE"
    PARCEL_DAMAGED = "CMD-PARCEL-DAMAGED"
    UNIT_DAMAGED = "CMD-UNIT-DAMAGED"
    UNDO = "CMD-UNDO"
    REPRINT = "CMD-REPRINT"
    PRINT_ALL = "CMD-PRINT-ALL"
    NEXT = "CMD-NEXT"
    CHECK_ALL = "CMD-CHECK-ALL"


COMMAND_TEXT = {
    Command.CLOSE: (_l("Close parcel"), _l("Units still expected are declared missing")),
    Command.PARCEL_DAMAGED: (_l("Parcel damaged"), _l("The box arrived damaged by the carrier")),
    Command.UNIT_DAMAGED: (_l("Unit damaged in transit"), _l("Flags the current unit")),
    Command.UNDO: (_l("Undo last"), _l("Takes back the last action on this parcel or unit")),
    Command.REPRINT: (_l("Print label again"), _l("The current unit's LPN label")),
    Command.PRINT_ALL: (_l("Print all labels"), _l("Every unit of this parcel")),
    Command.NEXT: (_l("Next unit"), _l("Done with this unit")),
    Command.CHECK_ALL: (_l("All checks OK"), _l("Ticks the whole checklist of the current unit")),
}

# Which commands each station's sheet carries (the checklist toggles follow).
STATION_COMMANDS = {
    "receive": (
        Command.NEXT,
        Command.CHECK_ALL,
        Command.REPRINT,
        Command.UNIT_DAMAGED,
        Command.UNDO,
        Command.PRINT_ALL,
        Command.PARCEL_DAMAGED,
        Command.CLOSE,
    ),
    "grade": (Command.NEXT, Command.CHECK_ALL, Command.REPRINT, Command.UNDO),
    "route": (Command.NEXT, Command.REPRINT),
}
STATION_TITLES = {"receive": _l("Receiving"), "grade": _l("Grading"), "route": _l("Routing")}


@dataclass(frozen=True)
class Scanned:
    """A scanned command: which one, or which checklist item it toggles."""

    command: Command | None = None
    check: str | None = None


def check_code(item: str) -> str:
    """The barcode text of a checklist toggle, e.g. 'CHECK-POWERS_ON'."""
    return CHECK_PREFIX + item.upper()


def parse(code: str) -> Scanned | None:
    """The command a scanned code stands for, or None when it is not a command."""
    text = (code or "").strip().upper()
    if text.startswith(CHECK_PREFIX):
        item = text.removeprefix(CHECK_PREFIX).lower().replace("-", "_")
        return Scanned(check=item) if item in CHECKLIST_LABELS else None
    if text.startswith(COMMAND_PREFIX):
        try:
            return Scanned(command=Command(text))
        except ValueError:
            return None
    return None


def sheet_rows(station: str) -> list[SheetRow]:
    """The rows of a station's command sheet (in the reader's language): its commands, then
    every checklist toggle."""
    rows = [
        SheetRow(command.value, *(str(text) for text in COMMAND_TEXT[command]))
        for command in STATION_COMMANDS[station]
    ]
    if station in ("receive", "grade"):
        rows += [
            SheetRow(check_code(item), _("Tick: %(item)s", item=label), _("Scan again to untick"))
            for item, label in CHECKLIST_LABELS.items()
        ]
    return rows
