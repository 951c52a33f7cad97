"""The rules screen: supervisors edit the whole disposition table, partners their own rules.

The table is posted whole (rows in order, blank rows ignored) and replaces the stored one only
when every row is valid; a refusal shows the table as typed with the field at fault marked.
Each row has a preview of the recent units its conditions would have matched.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from stations.auth import current_actor, partner_scope, roles_required
from stations.extensions import htmx
from stations.nav import register
from stations.params import as_id
from warehouse import rules
from warehouse.db import db
from warehouse.errors import DomainError, InvalidInput
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.i18n import ngettext
from warehouse.models import RULE_OUTCOMES, Category, Grade, Partner, Reason, Role
from warehouse.money import MINOR_DIGITS, to_decimal_string

bp = Blueprint("rules", __name__, url_prefix="/rules")
FIELDS = (
    "position",
    "partner",
    "grade",
    "category",
    "reason",
    "currency",
    "min_value",
    "max_value",
    "outcome",
    "discount",
    "quota",
)
BLANK_ROWS = 3
register(
    _l("Rules"),
    "rules.index",
    {Role.SUPERVISOR, Role.PARTNER},
    _l("Where graded units go: restock, resale, RTV, destroy"),
    order=70,
)


def _scope() -> int | None:
    """Whose rules this user edits: a partner user's own partner, else the whole table."""
    return partner_scope()


def _row_of(rule, partners: dict[int, str]) -> dict[str, str]:
    currency = rule.currency or ""

    def amount(minor):
        return "" if minor is None else to_decimal_string(minor, currency or "EUR")

    return {
        "position": str(rule.position),
        "partner": partners.get(rule.partner_id, "") if rule.partner_id else "",
        "grade": rule.grade.value if rule.grade else "",
        "category": rule.category.value if rule.category else "",
        "reason": rule.reason.value if rule.reason else "",
        "currency": currency,
        "min_value": amount(rule.min_value_minor),
        "max_value": amount(rule.max_value_minor),
        "outcome": rule.outcome.value,
        "discount": "" if rule.discount_bp is None else f"{rule.discount_bp / 100:g}",
        "quota": "" if rule.monthly_quota is None else str(rule.monthly_quota),
    }


def _posted_rows() -> list[dict[str, str]]:
    """The table as typed: every row with its fields, in the posted order."""
    count = min(as_id(request.form.get("row_count", "")) or 0, 500)
    rows = []
    for index in range(count):
        row = {name: request.form.get(f"rows-{index}-{name}", "").strip() for name in FIELDS}
        row["delete"] = request.form.get(f"rows-{index}-delete", "")
        rows.append(row)
    return rows


def _kept(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Rows that count: not deleted, not blank; sorted by their position number (stable)."""
    kept = [
        row
        for row in rows
        if not row["delete"] and any(row[name] for name in FIELDS if name != "position")
    ]

    def position(item):
        index, row = item
        text = row["position"]
        return (int(text) if text.isascii() and text.isdigit() else 10**6, index)

    return [row for _index, row in sorted(enumerate(kept), key=position)]


def _partners() -> tuple[dict[str, int], dict[int, str]]:
    if _scope() is not None:
        partner = db.session.get(Partner, _scope())
        return {partner.code: partner.id}, {partner.id: partner.code}
    pairs = db.session.query(Partner.code, Partner.id).order_by(Partner.code).all()
    return dict(pairs), {pid: code for code, pid in pairs}


def _parse(rows: list[dict[str, str]]) -> list[rules.Rule]:
    by_code, _codes = _partners()
    scope = _scope()
    if scope is not None:
        own = next(iter(by_code))
        for index, row in enumerate(rows, start=1):
            if row["partner"] and row["partner"] != own:
                raise InvalidInput(
                    _(
                        "Rule %(number)s names another partner: your rules route only your own "
                        "units.",
                        number=index,
                    ),
                    field=f"rules[{index}].partner",
                )
            row["partner"] = own
    return rules.parse_rows(rows, partners_by_code=by_code)


def _page(rows, *, error=None, preview=None, status=200):
    by_code, codes = _partners()
    defaults = []
    if _scope() is not None:
        defaults = [
            _row_of(rule, codes)
            for rule in rules.stored_table(db.session, None)
            if not rule.partner_id
        ]
    rows = rows + [dict.fromkeys(FIELDS, "") for _blank in range(BLANK_ROWS)]
    for index, row in enumerate(rows, start=1):
        row.setdefault("delete", "")
        if not row["position"]:
            row["position"] = ""
        row["number"] = index
    bad_row, bad_field = _fault(error)
    return (
        render_template(
            "rules/index.html",
            rows=rows,
            defaults=defaults,
            partner_codes=list(by_code) if _scope() is None else [],
            partner_scope=_scope(),
            grades=[g.value for g in Grade],
            categories=[c.value for c in Category],
            reasons=[r.value for r in Reason],
            outcomes=[o.value for o in RULE_OUTCOMES],
            currencies=list(MINOR_DIGITS),
            error=error,
            bad_row=bad_row,
            bad_field=bad_field,
            preview=preview,
        ),
        status,
    )


def _fault(error) -> tuple[int | None, str | None]:
    """('rules[3].grade') → (3, 'grade'): which typed row / field to mark."""
    field = getattr(error, "field", None) or ""
    if field.startswith("rules[") and "]" in field:
        number, _bracket, rest = field[6:].partition("]")
        if number.isascii() and number.isdigit():
            return int(number), rest.lstrip(".") or None
    return None, None


@bp.get("/")
@roles_required(Role.SUPERVISOR, Role.PARTNER)
def index():
    _by_code, codes = _partners()
    stored = rules.stored_table(db.session, _scope())
    return _page([_row_of(rule, codes) for rule in stored])[0]


@bp.post("/")
@roles_required(Role.SUPERVISOR, Role.PARTNER)
def save():
    """Replace the table with the posted one, or refuse it naming the row and field."""
    typed = _posted_rows()
    kept = _kept(typed)
    try:
        table = _parse(kept)
        if _scope() is not None:
            table = [rules.with_partner(rule, _scope()) for rule in table]
        rules.replace_table(db.session, _scope(), table, current_actor("rules"))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        # Rows are shown as they count (sorted, blanks dropped) so "rule N" points at row N.
        return _page(kept, error=error, status=422)
    flash(ngettext("Saved %(num)s rule.", "Saved %(num)s rules.", len(table)), "ok")
    return redirect(url_for("rules.index"), 303)


@bp.post("/reset")
@roles_required(Role.PARTNER)
def reset():
    """A partner drops its own rules; the warehouse defaults apply again."""
    if _scope() is None:
        abort(404)
    count = rules.reset_table(db.session, _scope(), current_actor("rules"))
    db.session.commit()
    flash(
        ngettext(
            "Removed your %(num)s rule; the warehouse defaults apply.",
            "Removed your %(num)s rules; the warehouse defaults apply.",
            count,
        ),
        "ok",
    )
    return redirect(url_for("rules.index"), 303)


@bp.post("/preview")
@roles_required(Role.SUPERVISOR, Role.PARTNER)
def preview():
    """Which recent units one typed row would have matched."""
    typed = _posted_rows()
    number = request.args.get("row", "")
    if not (number.isascii() and number.isdigit()) or not 0 <= int(number) < len(typed):
        abort(400)
    row = typed[int(number)]
    try:
        [rule] = _parse([row])
    except DomainError as error:
        result = {"error": error.message}
    else:
        found, looked_at = rules.preview(db.session, rule, partner_id=_scope())
        result = {
            "row": int(number) + 1,
            "rule": rules.describe(rule),
            "units": found,
            "looked_at": looked_at,
        }
    if htmx:
        return render_template("rules/_preview.html", preview=result)
    return _page(_kept(typed), preview=result)
