"""Partners: onboarding, editing and deactivating a seller, within the marketplace's agreement
(commission 5-20 %, SPEC 2) and the law (a window of at least 14 days, SPEC 4).

One typed description (`PartnerFields`) checks a new partner and every change to one (a change
is applied to the partner's current fields and the result checked whole), for the API, the admin
screens and the command line alike. Every change is an event with the fields before and after,
so a partner's policy has a history.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from pydantic import Field, ValidationInfo, field_validator
from sqlalchemy.orm import Session

from warehouse import events, i18n
from warehouse.deadlines import WITHDRAWAL_DAYS
from warehouse.errors import Conflict, InvalidInput, NotFound
from warehouse.i18n import gettext as _
from warehouse.models import (
    PARTNER_CURRENCIES,
    ApprovalMode,
    DefectiveHandling,
    Destination,
    Event,
    Grade,
    OutOfWindowPolicy,
    Partner,
    RejectedReturns,
)
from warehouse.money import Currency
from warehouse.policy import DEDUCTION_KEYS, MAX_ESCALATE_DAYS, MAX_GRACE_DAYS, MAX_WINDOW_DAYS
from warehouse.reference import Language
from warehouse.validation import Email, Input, OptionalText, Text, code_of, validated

COMMISSION_MIN_BP = 500  # SPEC 2: the marketplace's commission is 5-20 % of sold revenue
COMMISSION_MAX_BP = 2000
CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{1,31}$"
DISCOUNT_KEYS = tuple(g.value for g in Grade if g not in (Grade.NEW, Grade.DEFECTIVE))

# The fields an admin sets; a partner sets only its policy (never commission or code).
POLICY_FIELDS = (
    "window_days",
    "grace_days",
    "approval_mode",
    "destination",
    "address",
    "defective_handling",
    "out_of_window",
    "rejected_returns",
    "consult_escalate_days",
    "refund_deduction_bp",
    "resale_discount_bp",
)


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


class PartnerFields(Input):
    """A partner and its return policy, as an admin enters it."""

    code: Text(32, pattern=CODE_PATTERN) = Field(
        description="Short code in capitals, digits, - or _ (2-32), used in SKUs and exports"
    )
    name: Text(120)
    contact_email: Email = Field(description="Where case mails and notices go")
    language: code_of(Language, lower=True) = Language("en")
    commission_rate_bp: int = Field(
        1000, description="Commission on sold revenue, basis points (500-2000 = 5-20 %)"
    )
    currencies: list[code_of(Currency)] = Field(
        default_factory=lambda: [Currency(code) for code in PARTNER_CURRENCIES],
        min_length=1,
        description="Currencies the partner sells in; prices in others are refused",
    )
    approval_mode: ApprovalMode = ApprovalMode.AUTO
    destination: Destination = Destination.WAREHOUSE
    address: OptionalText(500) = Field(
        None,
        validate_default=True,
        description="The partner's own return address (needed when destination is partner)",
    )
    defective_handling: DefectiveHandling = DefectiveHandling.DESTROY
    out_of_window: OutOfWindowPolicy = OutOfWindowPolicy.CONSULT
    rejected_returns: RejectedReturns = Field(
        RejectedReturns.SEND_BACK,
        description="The goods of a refused return: send_back to the customer, or keep",
    )
    window_days: int = Field(
        WITHDRAWAL_DAYS,
        description="Return window from delivery; never shorter than the legal 14 days",
    )
    grace_days: int = Field(
        0, description=f"Days after the window still accepted, 0-{MAX_GRACE_DAYS}"
    )
    consult_escalate_days: int = Field(
        3, description=f"Days before an unanswered case is escalated, 1-{MAX_ESCALATE_DAYS}"
    )
    refund_deduction_bp: dict[str, int] = Field(
        default_factory=dict, description="Deduction per grade (used, light_damage, ...), bp"
    )
    resale_discount_bp: dict[str, int] = Field(
        default_factory=lambda: {"opened": 1000, "used": 2500, "light_damage": 4000},
        description="Resale discount per grade, bp",
    )
    refund_paid_by: Literal["partner", "marketplace"] = "partner"
    active: bool = True

    _code_upper = field_validator("code", mode="before")(_upper)

    @field_validator("commission_rate_bp")
    @classmethod
    def _commission(cls, value: int) -> int:
        if not COMMISSION_MIN_BP <= value <= COMMISSION_MAX_BP:
            raise ValueError(
                _(
                    "the commission is 5 to 20 %% of sold revenue (%(low)s-%(high)s basis "
                    "points), not %(given)s",
                    low=COMMISSION_MIN_BP,
                    high=COMMISSION_MAX_BP,
                    given=i18n.percent(value),
                )
            )
        return value

    @field_validator("window_days")
    @classmethod
    def _window(cls, value: int) -> int:
        if value < WITHDRAWAL_DAYS:
            raise ValueError(
                _(
                    "the return window cannot be shorter than the legal %(days)s days",
                    days=WITHDRAWAL_DAYS,
                )
            )
        if value > MAX_WINDOW_DAYS:
            raise ValueError(_("the return window is at most %(days)s days", days=MAX_WINDOW_DAYS))
        return value

    @field_validator("grace_days")
    @classmethod
    def _grace(cls, value: int) -> int:
        if not 0 <= value <= MAX_GRACE_DAYS:
            raise ValueError(_("grace is 0 to %(days)s days", days=MAX_GRACE_DAYS))
        return value

    @field_validator("consult_escalate_days")
    @classmethod
    def _escalate(cls, value: int) -> int:
        if not 1 <= value <= MAX_ESCALATE_DAYS:
            raise ValueError(_("escalation is after 1 to %(days)s days", days=MAX_ESCALATE_DAYS))
        return value

    @field_validator("currencies")
    @classmethod
    def _sold_here(cls, value: list[Currency]) -> list[Currency]:
        found = list(dict.fromkeys(value))
        for currency in found:
            if currency not in PARTNER_CURRENCIES:
                served = ", ".join(PARTNER_CURRENCIES)
                raise ValueError(
                    _(
                        "%(currency)s is not sold in any served country (%(served)s)",
                        currency=currency,
                        served=served,
                    )
                )
        return found

    @field_validator("refund_deduction_bp")
    @classmethod
    def _deductions(cls, value: dict[str, int]) -> dict[str, int]:
        return _basis_points(value, DEDUCTION_KEYS)

    @field_validator("resale_discount_bp")
    @classmethod
    def _discounts(cls, value: dict[str, int]) -> dict[str, int]:
        return _basis_points(value, DISCOUNT_KEYS)

    @field_validator("address", mode="after")
    @classmethod
    def _own_address(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("destination") == Destination.PARTNER and not value:
            raise ValueError(_("a partner that receives its own returns needs its return address"))
        return value


def _basis_points(value: dict[str, int], keys: tuple[str, ...]) -> dict[str, int]:
    for key, bp in value.items():
        if key not in keys:
            raise ValueError(
                _("%(key)s is not one of %(keys)s", key=repr(key), keys=", ".join(keys))
            )
        if not isinstance(bp, int) or isinstance(bp, bool) or not 0 <= bp <= 10_000:
            raise ValueError(_("%(key)s must be 0 to 10000 basis points (0-100 %%)", key=key))
    return dict(value)


def snapshot(partner: Partner) -> dict[str, Any]:
    """The partner's fields as `PartnerFields` names them (what events keep)."""
    return {
        "code": partner.code,
        "name": partner.name,
        "contact_email": partner.contact_email,
        "language": partner.language,
        "commission_rate_bp": partner.commission_rate_bp,
        "currencies": list(partner.currencies or []),
        "approval_mode": partner.approval_mode.value,
        "destination": partner.destination.value,
        "address": partner.address or None,
        "defective_handling": partner.defective_handling.value,
        "out_of_window": partner.out_of_window.value,
        "rejected_returns": partner.rejected_returns.value,
        "window_days": partner.window_days,
        "grace_days": partner.grace_days,
        "consult_escalate_days": partner.consult_escalate_days,
        "refund_deduction_bp": dict(partner.refund_deduction_bp or {}),
        "resale_discount_bp": dict(partner.resale_discount_bp or {}),
        "refund_paid_by": partner.refund_paid_by,
        "active": partner.active,
    }


def _apply(partner: Partner, fields: PartnerFields) -> None:
    for name, value in fields.model_dump().items():
        if name == "address":
            value = value or ""
        setattr(partner, name, value)


def get_partner(session: Session, code: str) -> Partner:
    """The partner with `code` (any case), or NotFound naming it."""
    partner = session.scalar(sa.select(Partner).where(Partner.code == (code or "").upper()))
    if partner is None:
        raise NotFound(_("no partner with code %(code)s", code=repr(code)), field="partner")
    return partner


def create_partner(session: Session, actor: events.Actor, data: dict[str, Any]) -> Partner:
    """Onboard a partner from `data` (checked whole); its code must be free."""
    fields = validated(PartnerFields, data)
    if session.scalar(sa.select(Partner.id).where(Partner.code == fields.code)) is not None:
        raise Conflict(
            _("a partner with code %(code)s exists already", code=repr(fields.code)), field="code"
        )
    partner = Partner()
    _apply(partner, fields)
    session.add(partner)
    session.flush()
    events.record(
        session, actor, "partner.created", partner, after=partner.code, fields=snapshot(partner)
    )
    return partner


def update_partner(
    session: Session,
    actor: events.Actor,
    partner: Partner,
    changes: dict[str, Any],
    *,
    allowed: tuple[str, ...] | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Apply `changes` to the partner (the result is checked whole); answers what changed,
    {field: (before, after)}. `allowed` limits the fields the caller may change (a partner
    edits its policy, never its commission); the code never changes."""
    if not isinstance(changes, dict):
        raise InvalidInput(_("send an object of the fields to change"), field="body")
    for name in changes:
        if name == "code" and changes[name] != partner.code:
            raise InvalidInput(_("a partner's code never changes"), field="code")
        if allowed is not None and name not in allowed:
            raise InvalidInput(_("%(name)s is not yours to change", name=name), field=name)
    before = snapshot(partner)
    fields = validated(PartnerFields, {**before, **changes, "code": partner.code})
    _apply(partner, fields)
    after = snapshot(partner)
    changed = {name: (before[name], after[name]) for name in after if before[name] != after[name]}
    if changed:
        events.record(
            session,
            actor,
            "partner.changed",
            partner,
            before=", ".join(sorted(changed)),
            changes={name: {"before": b, "after": a} for name, (b, a) in changed.items()},
        )
        session.flush()
    return changed


def history(session: Session, partner: Partner, limit: int = 200) -> list[Event]:
    """The partner's changes, newest first."""
    return list(
        session.scalars(
            sa.select(Event)
            .where(Event.subject_type == "partner", Event.subject_id == partner.id)
            .order_by(Event.id.desc())
            .limit(limit)
        )
    )
