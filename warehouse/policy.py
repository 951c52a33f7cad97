"""A partner's return policy, edited by the partner within the limits of the law (SPEC 4):
the window may be lengthened, never shortened below 14 days; grace days are not negative;
deductions are 0-100 % per grade."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy.orm import Session

from warehouse import events
from warehouse.deadlines import WITHDRAWAL_DAYS
from warehouse.errors import InvalidInput, NotFound
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import (
    ApprovalMode,
    DefectiveHandling,
    Destination,
    OutOfWindowPolicy,
    Partner,
    RejectedReturns,
)
from warehouse.proposals import MISSING_PARTS

MAX_WINDOW_DAYS = 365
MAX_GRACE_DAYS = 60
MAX_ESCALATE_DAYS = 30
DEDUCTION_KEYS = ("used", "light_damage", "heavy_damage", MISSING_PARTS)
DEDUCTION_LABELS = {
    "used": _l("Used"),
    "light_damage": _l("Light damage"),
    "heavy_damage": _l("Heavy damage"),
    MISSING_PARTS: _l("Missing parts"),
}
_PERCENT = re.compile(r"^\s*(\d{1,3})(?:[.,](\d{1,2}))?\s*%?\s*$")


def percent_to_bp(text: str) -> int:
    """'12.5' or '12,5 %' → 1250 basis points; raises ValueError for anything else."""
    match = _PERCENT.match(text or "")
    if not match:
        raise ValueError(text)
    return int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))


def bp_to_percent(bp: int | None) -> str:
    """1250 → '12.5' (empty when not set)."""
    return "" if bp is None else f"{bp / 100:g}"


def _whole(form: Mapping[str, str], field: str, label: str, low: int, high: int, errors: dict):
    raw = (form.get(field) or "").strip()
    if not re.fullmatch(r"\d{1,4}", raw):
        errors[field] = _("%(label)s must be a whole number of days", label=label)
        return None
    value = int(raw)
    if not low <= value <= high:
        errors[field] = _(
            "%(label)s must be between %(low)s and %(high)s days", label=label, low=low, high=high
        )
        return None
    return value


def _choice(form: Mapping[str, str], field: str, label: str, enum_cls, errors: dict):
    try:
        return enum_cls(form.get(field, ""))
    except ValueError:
        choices = ", ".join(member.value for member in enum_cls)
        errors[field] = _("%(label)s must be one of: %(choices)s", label=label, choices=choices)
        return None


def update_policy(
    session: Session, actor: events.Actor, partner_id: int, form: Mapping[str, str]
) -> Partner:
    """Validate the whole policy form and apply it, or change nothing and say what is wrong.

    Raises `InvalidInput` naming the first problem, with `errors` = {field: message} for all.
    """
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(_("no such partner"), field="partner")
    errors: dict[str, str] = {}
    window = _whole(
        form, "window_days", _("The return window"), WITHDRAWAL_DAYS, MAX_WINDOW_DAYS, errors
    )
    raw_window = (form.get("window_days") or "").strip()
    if (
        "window_days" in errors
        and raw_window.isascii()
        and raw_window.isdigit()
        and int(raw_window) < WITHDRAWAL_DAYS
    ):
        errors["window_days"] = _(
            "The return window cannot be shorter than the legal %(days)s days",
            days=WITHDRAWAL_DAYS,
        )
    grace = _whole(form, "grace_days", _("Grace"), 0, MAX_GRACE_DAYS, errors)
    escalate = _whole(form, "consult_escalate_days", _("Escalation"), 1, MAX_ESCALATE_DAYS, errors)
    approval = _choice(form, "approval_mode", _("Approval mode"), ApprovalMode, errors)
    late = _choice(form, "out_of_window", _("Out-of-window handling"), OutOfWindowPolicy, errors)
    refused = (
        _choice(form, "rejected_returns", _("Refused returns"), RejectedReturns, errors)
        if "rejected_returns" in form  # a form without the field keeps the partner's choice
        else partner.rejected_returns
    )
    defective = _choice(
        form, "defective_handling", _("Defective handling"), DefectiveHandling, errors
    )
    destination = _choice(form, "destination", _("Destination"), Destination, errors)
    deductions: dict[str, int] = {}
    for key in DEDUCTION_KEYS:
        field = f"deduction_{key}"
        raw = (form.get(field) or "").strip()
        if raw == "":
            continue  # not set: such returns go to the partner as a case
        try:
            bp = percent_to_bp(raw)
        except ValueError:
            errors[field] = _(
                "%(grade)s deduction must be a percentage like 10 or 12.5",
                grade=DEDUCTION_LABELS[key],
            )
            continue
        if bp > 10_000:
            errors[field] = _(
                "%(grade)s deduction must be between 0 and 100 %%", grade=DEDUCTION_LABELS[key]
            )
            continue
        deductions[key] = bp
    if errors:
        first = next(iter(errors))
        raise InvalidInput(errors[first], field=first, errors=errors)

    before = policy_dict(partner)
    partner.window_days = window
    partner.grace_days = grace
    partner.consult_escalate_days = escalate
    partner.approval_mode = approval
    partner.out_of_window = late
    partner.rejected_returns = refused
    partner.defective_handling = defective
    partner.destination = destination
    partner.refund_deduction_bp = deductions
    after = policy_dict(partner)
    if after != before:
        events.record(
            session,
            actor,
            "partner.policy_changed",
            partner,
            partner_id=partner.id,
            before_policy=before,
            after_policy=after,
        )
    session.flush()
    return partner


def policy_dict(partner: Partner) -> dict:
    """The editable policy of a partner, as plain values."""
    return {
        "window_days": partner.window_days,
        "grace_days": partner.grace_days,
        "consult_escalate_days": partner.consult_escalate_days,
        "approval_mode": ApprovalMode(partner.approval_mode).value,
        "out_of_window": OutOfWindowPolicy(partner.out_of_window).value,
        "rejected_returns": RejectedReturns(partner.rejected_returns).value,
        "defective_handling": DefectiveHandling(partner.defective_handling).value,
        "destination": Destination(partner.destination).value,
        "refund_deduction_bp": dict(partner.refund_deduction_bp or {}),
    }


def policy_form(partner: Partner) -> dict[str, str]:
    """The policy as the form's text values."""
    values = policy_dict(partner)
    form = {key: str(value) for key, value in values.items() if key != "refund_deduction_bp"}
    for key in DEDUCTION_KEYS:
        form[f"deduction_{key}"] = bp_to_percent(values["refund_deduction_bp"].get(key))
    return form
