"""What the dashboard screens and the dashboard API share: the filters read from a request
(within the caller's partner and site boundary) and each table as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import sqlalchemy as sa
from flask import Response

from warehouse import figures
from warehouse.db import db
from warehouse.errors import NotFound
from warehouse.i18n import gettext as _
from warehouse.models import Partner, Site


def scope_from(
    args,
    *,
    now: dt.datetime,
    partner_id: int | None,
    site_id: int | None = None,
) -> tuple[figures.Scope, dt.date]:
    """The figures' scope from `?site=&partner=&category=&from=&to=`, and today's date at the
    site (the period ends with this month by default).

    `partner_id` is the caller's boundary (a partner user or token): the `partner` filter is
    then ignored, the caller sees its own figures only. A `site_id` boundary likewise pins the
    site (a supervisor sees the site they work at unless they name another one they may see).
    """
    site_code = (args.get("site") or "").strip().upper()
    if site_code:
        found = db.session.scalar(sa.select(Site.id).where(Site.code == site_code))
        if found is None:
            raise NotFound(_("no site with code %(code)s", code=repr(site_code)), field="site")
        site_id = found
    if partner_id is None:
        code = (args.get("partner") or "").strip().upper()
        if code:
            partner_id = db.session.scalar(sa.select(Partner.id).where(Partner.code == code))
            if partner_id is None:
                raise NotFound(_("no partner with code %(code)s", code=repr(code)), field="partner")
    today = figures.today_at(db.session, site_id, now)
    return figures.Scope.parse(
        today=today,
        first=args.get("from", ""),
        last=args.get("to", ""),
        category=(args.get("category") or "").strip(),
        site_id=site_id,
        partner_id=partner_id,
    ), today


STAFF_FILTERS = ("site", "partner", "category", "from", "to")
PARTNER_FILTERS = ("category", "from", "to")  # a partner's own figures: no site, no partner


def link_args(args, keys: tuple[str, ...]) -> dict[str, str]:
    """The filters a dashboard's CSV links carry on: only the ones this caller may set."""
    return {key: args[key] for key in keys if args.get(key)}


# The tables a dashboard offers as CSV: name → (columns, rows of the dashboard dict).
TABLES = {
    "return-rate-by-partner": (
        ("partner", "sold", "returned", "rate"),
        lambda d: [{**row, "partner": row["key"]} for row in d["return_rate"]["by_partner"]],
    ),
    "return-rate-by-product": (
        ("sku", "title", "partner", "sold", "returned", "rate"),
        lambda d: [{**row, "sku": row["key"]} for row in d["return_rate"]["by_product"]],
    ),
    "return-rate-by-category": (
        ("category", "sold", "returned", "rate"),
        lambda d: [{**row, "category": row["key"]} for row in d["return_rate"]["by_category"]],
    ),
    "return-rate-by-month": (
        ("delivery_month", "sold", "returned", "rate"),
        lambda d: [{**row, "delivery_month": row["key"]} for row in d["return_rate"]["by_month"]],
    ),
    "reasons": (
        ("reason", "count", "share"),
        lambda d: [{**row, "reason": row["key"]} for row in d["reasons"]],
    ),
    "grades": (
        ("grade", "count", "share"),
        lambda d: [{**row, "grade": row["key"]} for row in d["grades"]],
    ),
    "stage-hours": (
        ("stage", "label", "p50", "p90", "count"),
        lambda d: [{"stage": name, **row} for name, row in d["stage_hours"].items()],
    ),
    "throughput": (("station", "hour", "count"), lambda d: d["throughput"]["per_hour"]),
    "operators": (
        ("station", "operator", "units", "hours", "per_hour"),
        lambda d: d["throughput"]["operators"],
    ),
    "refund-timeliness": (("month", "on_time", "late"), lambda d: d["refund_timeliness"]),
    "scorecard": (
        (
            "partner",
            "sold",
            "returned",
            "return_rate",
            "not_as_described_rate",
            "defective_rate",
            "consult_response_hours_p50",
            "within_sla_share",
            "cases_answered",
            "cases_escalated",
            "refunds_late",
        ),
        lambda d: [
            *d["scorecard"]["partners"],
            {"partner": "marketplace", **d["scorecard"]["marketplace"]},
        ],
    ),
    "resale": (
        ("currency", "listed_count", "listed_minor", "sold_count", "sold_minor"),
        lambda d: [{"currency": cur, **row} for cur, row in sorted(d["resale"].items())],
    ),
    "refund-due-risk": (
        ("refund_due_on", "rma", "lpn", "stage"),
        lambda d: d["refund_due_risk"],
    ),
}


def table_csv(name: str, data: dict, filename_stem: str) -> Response:
    """One dashboard table as a CSV download (rates as decimals, money in minor units)."""
    if name not in TABLES:
        raise NotFound(
            _(
                "no table %(name)s; choose one of: %(tables)s",
                name=repr(name),
                tables=", ".join(TABLES),
            ),
            field="table",
        )
    columns, rows = TABLES[name]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows(data):
        writer.writerow(
            {column: "" if row.get(column) is None else row.get(column) for column in columns}
        )
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename_stem}-{name}.csv"'
    return response
