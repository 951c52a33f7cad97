"""The words for codes a person reads: grades, return reasons, exception kinds, the stages of a
refund at risk. Lazy texts (`warehouse.i18n`), written in the reader's language when shown.

Kept apart from the modules that use the codes, so the mail and page filters
(`warehouse.wording`) can read them without importing the stages themselves.
"""

from __future__ import annotations

from warehouse.i18n import lazy_gettext as _l
from warehouse.models import ExceptionKind, Grade, Reason, Resolution, Role, UnitException

GRADE_LABELS = {
    Grade.NEW: _l("New"),
    Grade.OPENED: _l("Opened"),
    Grade.USED: _l("Used"),
    Grade.LIGHT_DAMAGE: _l("Light damage"),
    Grade.HEAVY_DAMAGE: _l("Heavy damage"),
    Grade.DEFECTIVE: _l("Defective"),
}

REASON_LABELS = {
    Reason.CHANGED_MIND: _l("Changed my mind"),
    Reason.WRONG_SIZE: _l("Wrong size"),
    Reason.NOT_AS_DESCRIBED: _l("Not as described"),
    Reason.DEFECTIVE: _l("Defective"),
    Reason.DAMAGED_ON_ARRIVAL: _l("Damaged on arrival"),
    Reason.WRONG_ITEM_SENT: _l("Wrong item sent"),
    Reason.OTHER: _l("Other"),
}

EXCEPTION_KIND_LABELS = {
    ExceptionKind.WRONG_ITEM: _l("wrong item"),
    ExceptionKind.EXTRA_UNIT: _l("extra unit"),
    ExceptionKind.MISSING_UNIT: _l("missing unit"),
    ExceptionKind.PARCEL_DAMAGED: _l("parcel damaged in transit"),
    ExceptionKind.DAMAGED_IN_TRANSIT: _l("unit damaged in transit"),
    ExceptionKind.SERIAL_MISMATCH: _l("serial mismatch"),
    ExceptionKind.UNANNOUNCED: _l("unannounced parcel"),
    ExceptionKind.FOREIGN_ITEM: _l("item of another marketplace"),
    ExceptionKind.REFUND_OVERDUE: _l("refund overdue"),
}

# A user's or a token's role, as a name (People, the header of every screen).
ROLE_LABELS = {
    Role.OPERATOR: _l("Operator"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.PARTNER: _l("Partner"),
    Role.ADMIN: _l("Admin"),
}

# A unit's flag from receiving is the exception it queued, and reads as its kind.
UNIT_EXCEPTION_KINDS = {
    UnitException.WRONG_ITEM: ExceptionKind.WRONG_ITEM,
    UnitException.EXTRA: ExceptionKind.EXTRA_UNIT,
    UnitException.DAMAGED_IN_TRANSIT: ExceptionKind.DAMAGED_IN_TRANSIT,
    UnitException.FOREIGN: ExceptionKind.FOREIGN_ITEM,
}


def exception_word(code) -> str:
    """An exception kind, or a unit's flag from receiving, in the reader's words."""
    value = str(getattr(code, "value", code) or "")
    kind = UNIT_EXCEPTION_KINDS.get(value)  # the members are str: a value finds its flag
    return label_of(EXCEPTION_KIND_LABELS, kind or value, ExceptionKind)


# What a refund at risk waits for, in the reader's words.
STAGE_LABELS = {
    "received_not_graded": _l("grading"),
    "case_open": _l("the partner's decision"),
    "case_escalated": _l("the partner's decision (escalated)"),
    "approved_not_paid": _l("the payment (approved, not paid out)"),
    "dispatched_not_received": _l(
        "the goods: sent with a proof of dispatch, so the refund may not wait"
    ),
}

# The state of a record (a case, a refund, a unit, a return, a batch, an export...) as a word,
# alone or in a sentence ("Case #12 is approved"). One word per code across the status enums.
STATUS_WORDS = {
    "open": _l("open"),
    "approved": _l("approved"),
    "adjusted": _l("adjusted"),
    "rejected": _l("rejected"),
    "remedy": _l("remedy granted"),
    "announced": _l("announced"),
    "received": _l("received"),
    "graded": _l("graded"),
    "routed": _l("routed"),
    "closed": _l("closed"),
    "packed": _l("packed"),
    "shipped": _l("shipped"),
    "destroyed": _l("destroyed"),
    "resolved": _l("resolved"),
    "withdrawn": _l("withdrawn"),
    "queued": _l("queued"),
    "running": _l("running"),
    "done": _l("done"),
    "failed": _l("failed"),
    "listed": _l("listed"),
    "sold": _l("sold"),
    "waiting": _l("waiting"),
}

# How a receiving exception was resolved.
RESOLUTION_LABELS = {
    Resolution.NOTIFY_CUSTOMER: _l("Tell the customer"),
    Resolution.NOTIFY_PARTNER: _l("Tell the partner"),
    Resolution.CARRIER_CLAIM: _l("Carrier claim filed"),
    Resolution.QUARANTINE: _l("Send to quarantine"),
    Resolution.ACCEPT: _l("Accept as is"),
}


def label_of(labels: dict, code, kind=None) -> str:
    """The reader's word for `code` (a value or an enum member) in a table of lazy labels keyed
    by `kind`'s members (or by plain values when no `kind`); an unknown code as it is."""
    value = str(getattr(code, "value", code) or "")
    try:
        label = labels.get(kind(value) if kind is not None else value)
    except ValueError:
        label = None
    return str(label) if label is not None else value


def status_word(code) -> str:
    """A status code (or enum) as a word in the reader's language; an unknown code as it is."""
    return label_of(STATUS_WORDS, code)


# Where a unit goes (a rule's outcome, a bin's kind), as the stations say it.
DISPOSITION_LABELS = {
    "restock": _l("restock"),
    "refurbish": _l("refurbish"),
    "resale": _l("resale"),
    "rtv": _l("return to vendor"),
    "donate": _l("donate"),
    "recycle": _l("recycle"),
    "destroy": _l("destroy"),
    "quarantine": _l("quarantine"),
    "to_customer": _l("to customer"),
}


def disposition_word(code) -> str:
    """Where a unit goes, in the reader's words ('restock', 'return to vendor')."""
    return label_of(DISPOSITION_LABELS, code).replace("_", " ")  # an unknown code as words
