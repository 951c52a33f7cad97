"""Disposition rules: which route a graded unit takes (SPEC sections 6 and 7).

Rules are data. `decide` is a pure function over plain values: a partner's own rules first, then
the warehouse's default table, then the built-in defaults of SPEC section 6; the first rule that
matches wins. A rule past its monthly quota, or a resale rule whose price would fall under the
partner's min-price floor, passes the unit on to the next rule. The database side (loading,
replacing a table after validation, previewing) sits at the bottom of this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from warehouse import espr
from warehouse.db import MAX_ID
from warehouse.errors import InvalidInput, NotFound
from warehouse.events import Actor, record
from warehouse.i18n import gettext as _
from warehouse.models import (
    RULE_OUTCOMES,
    Category,
    DefectiveHandling,
    Disposition,
    DispositionRule,
    Grade,
    Partner,
    Reason,
)
from warehouse.money import MINOR_DIGITS
from warehouse.resale import resale_price


@dataclass(frozen=True)
class Rule:
    """One rule as plain values; None in a condition means "any"."""

    outcome: Disposition
    grade: Grade | None = None
    category: Category | None = None
    reason: Reason | None = None
    partner_id: int | None = None
    currency: str | None = None
    min_value_minor: int | None = None
    max_value_minor: int | None = None
    discount_bp: int | None = None
    monthly_quota: int | None = None
    refurbished: bool | None = None  # built-in defaults only: after / before a refurbish
    id: int | None = None
    label: str = ""


@dataclass(frozen=True)
class UnitFacts:
    """What the rules look at about one graded unit."""

    partner_id: int
    grade: Grade
    category: Category | None
    reason: Reason | None
    value_minor: int  # the original unit price
    currency: str
    floor_minor: int = 0  # the SKU's min resale price in `currency`
    refurbished: bool = False  # went through refurbish already (then resold as refurbished)
    # Checks its category needs before any sale that were not ticked (tested, factory reset,
    # sterilised): such a unit is refurbished before a restock or resale route may take it.
    missing_before_sale: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    """The outcome for a unit: where it goes, by which rule, and at what price if resold."""

    outcome: Disposition
    rule: Rule
    discount_bp: int | None = None
    price_minor: int | None = None
    # Why earlier matching rules were passed over ("quota of 5 used up", "under the floor").
    passed_over: tuple[str, ...] = field(default=())


# Routes that put a unit back on sale.
SALE_OUTCOMES = (Disposition.RESTOCK, Disposition.RESALE)


def default_rules(defective_handling: DefectiveHandling) -> list[Rule]:
    """The built-in table of SPEC section 6; the defective route follows the partner's choice."""
    defective = (
        Disposition.RTV
        if defective_handling == DefectiveHandling.RETURN_TO_VENDOR
        else Disposition.DESTROY
    )
    return [
        Rule(Disposition.RESTOCK, grade=Grade.NEW, label="default: new → restock as new"),
        Rule(Disposition.RESALE, grade=Grade.OPENED, label="default: opened → open-box resale"),
        Rule(
            Disposition.REFURBISH,
            grade=Grade.USED,
            refurbished=False,
            label="default: used → refurbish",
        ),
        Rule(
            Disposition.REFURBISH,
            grade=Grade.LIGHT_DAMAGE,
            refurbished=False,
            label="default: light damage → refurbish",
        ),
        Rule(Disposition.RESALE, grade=Grade.USED, label="default: refurbished used → resale"),
        Rule(
            Disposition.RESALE,
            grade=Grade.LIGHT_DAMAGE,
            label="default: refurbished light damage → resale",
        ),
        Rule(
            Disposition.RESALE,
            grade=Grade.HEAVY_DAMAGE,
            label="default: heavy damage → resale for parts",
        ),
        Rule(defective, grade=Grade.DEFECTIVE, label=f"default: defective → {defective.value}"),
    ]


def fallback_rule(defective_handling: DefectiveHandling) -> Rule:
    """Where a unit goes when no rule takes it (e.g. every resale is under the floor)."""
    if defective_handling == DefectiveHandling.RETURN_TO_VENDOR:
        return Rule(Disposition.RTV, label="fallback: return to vendor")
    return Rule(Disposition.DESTROY, label="fallback: destroy")


def matches(rule: Rule, facts: UnitFacts) -> bool:
    """True when every condition the rule sets holds for the unit."""
    if rule.partner_id is not None and rule.partner_id != facts.partner_id:
        return False
    if rule.grade is not None and rule.grade != facts.grade:
        return False
    if rule.category is not None and rule.category != facts.category:
        return False
    if rule.reason is not None and rule.reason != facts.reason:
        return False
    if rule.refurbished is not None and rule.refurbished != facts.refurbished:
        return False
    if rule.min_value_minor is not None or rule.max_value_minor is not None:
        if rule.currency != facts.currency:
            return False
        if rule.min_value_minor is not None and facts.value_minor < rule.min_value_minor:
            return False
        if rule.max_value_minor is not None and facts.value_minor > rule.max_value_minor:
            return False
    return True


def decide(
    facts: UnitFacts,
    rules: Sequence[Rule],
    *,
    defective_handling: DefectiveHandling,
    resale_discount_bp: Mapping[str, int],
    quota_used: Mapping[int, int] | None = None,
) -> Route:
    """The route of one unit: first matching rule of `rules`, then the built-in defaults.

    `rules` are the partner's rules followed by the default table (see `ordered`).
    `quota_used` counts this month's units per rule id.
    """
    quota_used = quota_used or {}
    passed_over: list[str] = []
    for rule in [*rules, *default_rules(defective_handling), fallback_rule(defective_handling)]:
        if not matches(rule, facts):
            continue
        name = rule.label or f"rule {rule.id}"
        if rule.monthly_quota is not None and quota_used.get(rule.id, 0) >= rule.monthly_quota:
            passed_over.append(f"{name}: monthly quota of {rule.monthly_quota} used up")
            continue
        if rule.outcome in SALE_OUTCOMES and facts.missing_before_sale:
            # SPEC 6: electronics tested and factory-reset, hygiene items sterilised, before
            # any sale; a rule cannot waive it. Refurbish, then grade again.
            missing = ", ".join(item.replace("_", " ") for item in facts.missing_before_sale)
            passed_over.append(f"{name}: not {missing} yet")
            refurbish = Rule(Disposition.REFURBISH, label=f"{missing} first: refurbish")
            return Route(Disposition.REFURBISH, refurbish, passed_over=tuple(passed_over))
        if rule.outcome != Disposition.RESALE:
            return Route(rule.outcome, rule, passed_over=tuple(passed_over))
        discount_bp = (
            rule.discount_bp
            if rule.discount_bp is not None
            else resale_discount_bp.get(facts.grade.value, 0)
        )
        price = resale_price(facts.value_minor, discount_bp)
        if price < facts.floor_minor:
            passed_over.append(f"{name}: price {price} under the floor of {facts.floor_minor}")
            continue
        return Route(
            rule.outcome,
            rule,
            discount_bp=discount_bp,
            price_minor=price,
            passed_over=tuple(passed_over),
        )
    raise AssertionError("the fallback rule matches every unit")  # pragma: no cover


# --- validation ------------------------------------------------------------------------------


def _covers(earlier: Rule, later: Rule) -> bool:
    """True when every unit `later` matches is matched by `earlier` too."""
    for name in ("partner_id", "grade", "category", "reason"):
        if getattr(earlier, name) is not None and getattr(earlier, name) != getattr(later, name):
            return False
    if earlier.min_value_minor is None and earlier.max_value_minor is None:
        return True
    if later.currency != earlier.currency:
        return False
    low_ok = earlier.min_value_minor is None or (
        later.min_value_minor is not None and later.min_value_minor >= earlier.min_value_minor
    )
    high_ok = earlier.max_value_minor is None or (
        later.max_value_minor is not None and later.max_value_minor <= earlier.max_value_minor
    )
    return low_ok and high_ok


def validate_table(rules: Sequence[Rule], *, partner_id: int | None) -> None:
    """Refuse a table that is empty, contradictory or routes another partner's units.

    `partner_id` is whose table this is; None is the whole table a supervisor edits, where a
    row may name a partner (its rules come before the rows for every partner). Raises
    InvalidInput naming the row and field at fault, e.g. ``rules[2].max_value``.
    """
    if not rules:
        raise InvalidInput(
            _("The rule table is empty: add at least one rule (or reset to the defaults)."),
            field="rules",
        )
    for index, rule in enumerate(rules, start=1):
        where = f"rules[{index}]"
        if partner_id is not None and rule.partner_id != partner_id:
            raise InvalidInput(
                _(
                    "Rule %(index)s names another partner: a partner's rules route "
                    "only its own units.",
                    index=index,
                ),
                field=f"{where}.partner",
            )
        if rule.outcome not in RULE_OUTCOMES:
            raise InvalidInput(
                _("Rule %(index)s has no valid outcome.", index=index), field=f"{where}.outcome"
            )
        refused = espr.rule_refused(rule.outcome, rule.category, dt.datetime.now(dt.UTC).date())
        if refused:
            raise InvalidInput(
                _("Rule %(index)s: %(refused)s", index=index, refused=refused),
                field=f"{where}.outcome",
            )
        has_value = rule.min_value_minor is not None or rule.max_value_minor is not None
        if has_value and rule.currency not in MINOR_DIGITS:
            raise InvalidInput(
                _(
                    "Rule %(index)s sets a value bound: say in which currency "
                    "(EUR, GBP, DKK, SEK).",
                    index=index,
                ),
                field=f"{where}.currency",
            )
        if not has_value and rule.currency is not None:
            raise InvalidInput(
                _("Rule %(index)s names a currency but no value bound.", index=index),
                field=f"{where}.currency",
            )
        if (
            rule.min_value_minor is not None
            and rule.max_value_minor is not None
            and rule.min_value_minor > rule.max_value_minor
        ):
            raise InvalidInput(
                _(
                    "Rule %(index)s is contradictory: its minimum value is above its maximum.",
                    index=index,
                ),
                field=f"{where}.max_value",
            )
        for name in ("min_value_minor", "max_value_minor"):
            value = getattr(rule, name)
            if value is not None and value < 0:
                raise InvalidInput(
                    _("Rule %(index)s: a value bound cannot be negative.", index=index),
                    field=f"{where}.{name.removesuffix('_minor')}",
                )
        if rule.discount_bp is not None:
            if rule.outcome != Disposition.RESALE:
                raise InvalidInput(
                    _(
                        "Rule %(index)s is contradictory: a discount only applies to resale.",
                        index=index,
                    ),
                    field=f"{where}.discount",
                )
            if not 0 <= rule.discount_bp <= 10_000:
                raise InvalidInput(
                    _("Rule %(index)s: a discount is between 0 and 100 %%.", index=index),
                    field=f"{where}.discount",
                )
        if rule.monthly_quota is not None and rule.monthly_quota <= 0:
            raise InvalidInput(
                _("Rule %(index)s: a monthly quota is a whole number above 0.", index=index),
                field=f"{where}.quota",
            )
        for earlier_index, earlier in enumerate(rules[: index - 1], start=1):
            # A resale rule can pass a unit on (under the floor), a quota rule too: neither hides.
            if (
                earlier.partner_id == rule.partner_id
                and earlier.monthly_quota is None
                and earlier.outcome != Disposition.RESALE
                and _covers(earlier, rule)
            ):
                verb = "duplicates" if _covers(rule, earlier) else "is shadowed by"
                raise InvalidInput(
                    _(
                        "Rule %(index)s %(verb)s rule %(earlier_index)s: rule "
                        "%(earlier_index)s already sends every unit it would match to "
                        "%(outcome)s, so it would never apply. Remove it or move it up.",
                        index=index,
                        verb=verb,
                        earlier_index=earlier_index,
                        outcome=earlier.outcome.value,
                    ),
                    field=f"{where}.position",
                )


def _enum_value(cls, raw: Any, where: str, name: str, index: int):
    text = ("" if raw is None else str(raw)).strip()
    if not text or text == "any":
        return None
    try:
        return cls(text)
    except ValueError:
        choices = ", ".join(member.value for member in cls)
        raise InvalidInput(
            _(
                "Rule %(index)s: unknown %(name)s %(text)s; choose one of %(choices)s.",
                index=index,
                name=name,
                text=repr(text),
                choices=choices,
            ),
            field=f"{where}.{name}",
        ) from None


def _whole(raw: Any, where: str, name: str, index: int, *, scale: int = 1) -> int | None:
    """A non-negative number typed by a person; `scale` turns '12.5' (%) into basis points."""
    text = ("" if raw is None else str(raw)).strip().replace(",", ".")
    if not text:
        return None
    try:
        whole, _dot, frac = text.partition(".")
        digits = len(str(scale)) - 1
        if not (whole.isascii() and whole.isdigit()) or (
            frac and (not (frac.isascii() and frac.isdigit()) or len(frac) > digits)
        ):
            raise ValueError
        number = int(whole) * scale + (int(frac.ljust(digits, "0")) if frac else 0)
        if number > MAX_ID:  # what a database integer holds
            raise ValueError
        return number
    except ValueError:
        raise InvalidInput(
            _(
                "Rule %(index)s: %(replace)s %(text)s is not a number this field takes.",
                index=index,
                replace=name.replace("_", " "),
                text=repr(text),
            ),
            field=f"{where}.{name}",
        ) from None


def parse_rows(
    rows: Iterable[Mapping[str, Any]], *, partners_by_code: Mapping[str, int]
) -> list[Rule]:
    """Turn form / JSON rows (strings, amounts in major units, discount in %) into rules.

    An unknown grade, category, reason, outcome or partner code is refused naming the field.
    """
    rules = []
    for index, row in enumerate(rows, start=1):
        where = f"rules[{index}]"
        outcome = _enum_value(Disposition, row.get("outcome"), where, "outcome", index)
        if outcome is None or outcome == Disposition.QUARANTINE:
            raise InvalidInput(
                _(
                    "Rule %(index)s needs an outcome: one of %(choices)s.",
                    index=index,
                    choices=", ".join(o.value for o in RULE_OUTCOMES),
                ),
                field=f"{where}.outcome",
            )
        code = str(row.get("partner") or "").strip()
        partner_id = None
        if code:
            if code not in partners_by_code:
                raise InvalidInput(
                    _("Rule %(index)s: no partner %(code)s.", index=index, code=repr(code)),
                    field=f"{where}.partner",
                )
            partner_id = partners_by_code[code]
        currency = str(row.get("currency") or "").strip().upper() or None
        scale = 10 ** MINOR_DIGITS.get(currency or "EUR", 2)
        quota = _whole(row.get("quota"), where, "quota", index)
        rules.append(
            Rule(
                outcome=outcome,
                grade=_enum_value(Grade, row.get("grade"), where, "grade", index),
                category=_enum_value(Category, row.get("category"), where, "category", index),
                reason=_enum_value(Reason, row.get("reason"), where, "reason", index),
                partner_id=partner_id,
                currency=currency,
                min_value_minor=_whole(
                    row.get("min_value"), where, "min_value", index, scale=scale
                ),
                max_value_minor=_whole(
                    row.get("max_value"), where, "max_value", index, scale=scale
                ),
                discount_bp=_whole(row.get("discount"), where, "discount", index, scale=100),
                monthly_quota=quota,
            )
        )
    return rules


# --- the database side -----------------------------------------------------------------------


def as_rule(row: DispositionRule) -> Rule:
    """A stored rule as plain values."""
    return Rule(
        outcome=row.outcome,
        grade=row.grade,
        category=row.category,
        reason=row.reason,
        partner_id=row.partner_id,
        currency=row.currency,
        min_value_minor=row.min_value_minor,
        max_value_minor=row.max_value_minor,
        discount_bp=row.discount_bp,
        monthly_quota=row.monthly_quota,
        id=row.id,
        label=f"rule {row.position}" + (" (partner)" if row.partner_id else " (default table)"),
    )


def stored_table(session: Session, partner_id: int | None) -> list[DispositionRule]:
    """A partner's own rows in order, or (None) every row: partners' rows first, then defaults."""
    query = sa.select(DispositionRule).order_by(
        DispositionRule.partner_id.is_(None), DispositionRule.position, DispositionRule.id
    )
    if partner_id is not None:
        query = query.where(DispositionRule.partner_id == partner_id)
    return list(session.scalars(query))


def ordered(session: Session, partner_id: int) -> list[Rule]:
    """The rules that apply to a partner's units: its own first, then the default table."""
    rows = session.scalars(
        sa.select(DispositionRule)
        .where(
            sa.or_(DispositionRule.partner_id == partner_id, DispositionRule.partner_id.is_(None))
        )
        .order_by(DispositionRule.partner_id.is_(None), DispositionRule.position)
    )
    return [as_rule(row) for row in rows]


def replace_table(
    session: Session, partner_id: int | None, rules: Sequence[Rule], actor: Actor
) -> list[DispositionRule]:
    """Validate `rules` and make them the table of `partner_id`, in order.

    `partner_id` None replaces every rule (the supervisor's whole table, rows may name partners).
    """
    if actor.partner_id is not None and actor.partner_id != partner_id:
        raise NotFound(_("No such rule table."))
    if partner_id is not None and session.get(Partner, partner_id) is None:
        raise InvalidInput(
            _("No partner with id %(partner_id)s.", partner_id=partner_id), field="partner"
        )
    validate_table(rules, partner_id=partner_id)
    stored = stored_table(session, partner_id)
    before = len(stored)
    # A rule kept from the old table keeps its id, so this month's quota count (placements
    # by rule id) survives an edit of the table; changed and new rules start at zero.
    kept: dict[tuple, list[DispositionRule]] = {}
    for row in stored:
        kept.setdefault(_identity(as_rule(row)), []).append(row)
    rows = []
    for position, rule in enumerate(rules, start=1):
        same = kept.get(_identity(rule))
        row = same.pop(0) if same else DispositionRule()
        row.partner_id = rule.partner_id
        row.position = position
        row.grade = rule.grade
        row.category = rule.category
        row.reason = rule.reason
        row.currency = rule.currency
        row.min_value_minor = rule.min_value_minor
        row.max_value_minor = rule.max_value_minor
        row.outcome = rule.outcome
        row.discount_bp = rule.discount_bp
        row.monthly_quota = rule.monthly_quota
        session.add(row)
        rows.append(row)
    for leftovers in kept.values():
        for row in leftovers:
            session.delete(row)
    session.flush()
    subject = session.get(Partner, partner_id) if partner_id else rows[0]
    record(  # the whole table in words, so any earlier table can be read back from events
        session,
        actor,
        "rules.replaced",
        subject,
        before=str(before),
        after=str(len(rows)),
        partner_id=partner_id,
        rules=[describe(as_rule(row)) for row in rows],
    )
    return rows


def _identity(rule: Rule) -> tuple:
    """What makes two rules the same rule: whose, its conditions and its outcome."""
    return (
        rule.partner_id,
        rule.grade,
        rule.category,
        rule.reason,
        rule.currency,
        rule.min_value_minor,
        rule.max_value_minor,
        rule.outcome,
    )


def reset_table(session: Session, partner_id: int, actor: Actor) -> int:
    """Delete a partner's own rules so only the default table applies; returns how many."""
    if actor.partner_id is not None and actor.partner_id != partner_id:
        raise NotFound(_("No such rule table."))
    partner = session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(_("No such partner."))
    count = len(stored_table(session, partner_id))
    session.execute(sa.delete(DispositionRule).where(DispositionRule.partner_id == partner_id))
    record(session, actor, "rules.reset", partner, before=str(count), after="0")
    return count


def describe(rule: Rule) -> str:
    """A rule in words, for events and the screen: 'grade=used, category=electronics → resale'."""
    parts = [
        f"{name}={getattr(rule, name).value}"
        for name in ("grade", "category", "reason")
        if getattr(rule, name) is not None
    ]
    if rule.min_value_minor is not None:
        parts.append(f"value ≥ {rule.min_value_minor} {rule.currency}")
    if rule.max_value_minor is not None:
        parts.append(f"value ≤ {rule.max_value_minor} {rule.currency}")
    outcome = rule.outcome.value
    if rule.discount_bp is not None:
        outcome += f" -{rule.discount_bp / 100:g} %"
    if rule.monthly_quota is not None:
        outcome += f" (max {rule.monthly_quota}/month)"
    return (", ".join(parts) or "every unit") + " → " + outcome


def with_partner(rule: Rule, partner_id: int | None) -> Rule:
    """The same rule bound to a partner (partner screens never let the partner column vary)."""
    return replace(rule, partner_id=partner_id)


def month_of(when: dt.datetime, timezone: str) -> str:
    """'YYYY-MM' of an instant in a site's time zone (quotas count calendar months)."""
    from zoneinfo import ZoneInfo

    return when.astimezone(ZoneInfo(timezone)).strftime("%Y-%m")


@dataclass(frozen=True)
class PreviewRow:
    """A recent unit a rule would have matched."""

    lpn: str
    grade: Grade
    title: str
    partner_code: str
    value_minor: int
    currency: str
    disposition: str | None


def preview(
    session: Session,
    rule: Rule,
    *,
    partner_id: int | None,
    days: int = 60,
    scan_limit: int = 500,
    limit: int = 25,
) -> tuple[list[PreviewRow], int]:
    """Recent graded units (of `partner_id`, or all) the rule's conditions match.

    Returns up to `limit` matches and how many recent units were looked at. Only conditions
    count here; quotas and floors depend on the day the unit is routed.
    """
    from warehouse.db import utcnow
    from warehouse.models import Order, OrderLine, Product, ReturnLine, ReturnRequest, Unit

    since = utcnow() - dt.timedelta(days=days)
    query = (
        sa.select(
            Unit.lpn,
            Unit.grade,
            Unit.partner_id,
            Unit.disposition,
            Product.title,
            Product.category,
            Partner.code,
            ReturnLine.reason,
            OrderLine.unit_price_minor,
            Order.currency,
        )
        .join(Partner, Partner.id == Unit.partner_id)
        .join(ReturnRequest, ReturnRequest.id == Unit.return_id)
        .join(Order, Order.id == ReturnRequest.order_id)
        .outerjoin(Product, Product.id == Unit.product_id)
        .outerjoin(ReturnLine, ReturnLine.id == Unit.return_line_id)
        .outerjoin(OrderLine, OrderLine.id == ReturnLine.order_line_id)
        .where(Unit.grade.is_not(None), Unit.graded_at >= since)
        .order_by(Unit.graded_at.desc(), Unit.id.desc())
        .limit(scan_limit)
    )
    if partner_id is not None:
        query = query.where(Unit.partner_id == partner_id)
    found: list[PreviewRow] = []
    looked_at = 0
    for row in session.execute(query):
        looked_at += 1
        facts = UnitFacts(
            partner_id=row.partner_id,
            grade=row.grade,
            category=row.category,
            reason=row.reason,
            value_minor=row.unit_price_minor or 0,
            currency=row.currency,
        )
        if matches(replace(rule, refurbished=None), facts) and len(found) < limit:
            found.append(
                PreviewRow(
                    row.lpn,
                    row.grade,
                    row.title or "",
                    row.code,
                    facts.value_minor,
                    row.currency,
                    row.disposition,
                )
            )
    return found, looked_at
