"""Money screens: the partner's statement as CSV and PDF and its commission invoices; for admins
and supervisors the accounting page (the journal download, invoices, reconciliation)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from labels.money_documents import money_pdf
from stations import nav
from stations.auth import current_actor, partner_scope, roles_required
from stations.htmx import file_response
from warehouse import accounting as books
from warehouse import invoices, ledger, listings, payments, reconciliation
from warehouse.db import db
from warehouse.documents import invoice_document, statement_document
from warehouse.errors import DomainError, InvalidInput, NotFound
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.i18n import ngettext
from warehouse.models import Partner, Role, Site

bp = Blueprint("money", __name__)
STAFF = (Role.ADMIN, Role.SUPERVISOR)
nav.register(
    _l("Invoices"), "money.partner_invoices", {Role.PARTNER}, _l("Commission invoices"), 14
)
nav.register(
    _l("Refunds to pay"),
    "money.partner_refunds",
    {Role.PARTNER},
    _l("Approved refunds you pay"),
    15,
)
nav.register(
    _l("Accounting"), "money.accounting", set(STAFF), _l("Journal, invoices, reconciliation"), 70
)


def _today() -> dt.date:
    return invoices.invoicing_day(db.session)


def _month_arg() -> tuple[int, int]:
    raw = request.args.get("month", "").strip()
    if not raw:
        today = _today()
        return today.year, today.month
    return ledger.parse_month(raw)


def _issuer() -> invoices.Issuer:
    return invoices.Issuer.from_settings(current_app.config)


def _partner_for_statement() -> Partner:
    """The partner whose statement is asked for: a partner's own, or `?partner=` for staff."""
    scope = partner_scope()
    if scope is not None:
        return db.session.get(Partner, scope)
    code = request.args.get("partner", "").strip().upper()
    partner = db.session.scalar(sa.select(Partner).where(Partner.code == code)) if code else None
    if partner is None:
        raise NotFound(_("name the partner"), field="partner")
    return partner


@bp.get("/portal/statement.csv")
@bp.get("/accounting/statement.csv")
@roles_required(Role.PARTNER, *STAFF)
def statement_csv():
    """The month's statement as CSV, one row per entry in words."""
    partner = _partner_for_statement()
    year, month = _month_arg()
    result = ledger.statement(db.session, partner.id, year, month)
    name = f"statement-{partner.code}-{year:04d}-{month:02d}.csv"
    return file_response(ledger.statement_csv(result), "text/csv", name)


@bp.get("/portal/statement.pdf")
@bp.get("/accounting/statement.pdf")
@roles_required(Role.PARTNER, *STAFF)
def statement_pdf():
    """The month's statement as a PDF."""
    partner = _partner_for_statement()
    year, month = _month_arg()
    result = ledger.statement(db.session, partner.id, year, month)
    pdf = money_pdf(statement_document(result, partner, _issuer()))
    name = f"statement-{partner.code}-{year:04d}-{month:02d}.pdf"
    return file_response(pdf, "application/pdf", name, inline=True)


@bp.get("/portal/invoices")
@roles_required(Role.PARTNER)
def partner_invoices():
    """The partner's commission invoices."""
    rows = invoices.of_partner(db.session, partner_scope())
    return render_template("money/partner_invoices.html", invoices=rows)


@bp.get("/portal/refunds")
@roles_required(Role.PARTNER)
def partner_refunds():
    """Approved refunds not paid out yet; the partner confirms each payment here."""
    partner = db.session.get(Partner, partner_scope())
    return render_template(
        "money/partner_refunds.html",
        partner=partner,
        refunds=payments.unpaid(db.session, partner.id),
        today=_today(),
    )


@bp.post("/portal/refunds/<lpn>/paid")
@roles_required(Role.PARTNER)
def partner_refund_paid(lpn: str):
    """The partner paid this refund to its customer."""
    try:
        unit, _payment = payments.mark_paid(
            db.session,
            current_actor("portal"),
            lpn,
            reference=request.form.get("reference", ""),
            partner_id=partner_scope(),
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("money.partner_refunds"), 303)
    flash(_("The refund of %(lpn)s is recorded as paid.", lpn=unit.lpn), "ok")
    return redirect(url_for("money.partner_refunds"), 303)


@bp.get("/portal/invoices/<number>.pdf")
@bp.get("/accounting/invoices/<number>.pdf")
@roles_required(Role.PARTNER, *STAFF)
def invoice_pdf(number: str):
    """One invoice as a PDF (another partner's is not found)."""
    invoice = invoices.get(db.session, number, partner_id=partner_scope())
    pdf = money_pdf(invoice_document(invoice, _issuer()))
    return file_response(pdf, "application/pdf", f"{invoice.number}.pdf", inline=True)


@bp.get("/accounting")
@roles_required(*STAFF)
def accounting():
    """The journal download, the invoices and what does not reconcile."""
    today = _today()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    return render_template(
        "money/accounting.html",
        today=today,
        month_start=today.replace(day=1),
        last_month=f"{last_month:%Y-%m}",
        partners=list(db.session.scalars(sa.select(Partner).order_by(Partner.name))),
        sites=list(db.session.scalars(sa.select(Site).order_by(Site.code))),
        invoices=invoices.of_partner(db.session, None, limit=50),
        # The check reads the whole ledger: it runs when asked for, not on every visit.
        differences=(
            reconciliation.differences(db.session, limit=100) if request.args.get("check") else None
        ),
        accounts=books.ACCOUNTS,
    )


@bp.get("/accounting/journal")
@roles_required(*STAFF)
def journal():
    """The journal of the chosen period, streamed as CSV or JSON."""
    try:
        start = dt.date.fromisoformat(request.args.get("from", ""))
        end = dt.date.fromisoformat(request.args.get("to", ""))
    except ValueError:
        raise InvalidInput(_("give the period as two days, YYYY-MM-DD"), field="from") from None
    start, end = books.period(start, end)
    partner_id, site_id = books.scope_of(
        db.session, request.args.get("partner"), request.args.get("site")
    )
    fmt = "json" if request.args.get("format") == "json" else "csv"
    total = books.count(db.session, start, end, partner_id=partner_id, site_id=site_id)
    if total > current_app.config["RESALE_EXPORT_BACKGROUND_ROWS"]:
        # Too long for a browser to wait for: written in the background, with progress.
        export = books.request_background(
            db.session,
            current_actor("accounting"),
            start,
            end,
            fmt,
            partner_id=partner_id,
            site_id=site_id,
            total=total,
        )
        db.session.commit()
        return redirect(url_for("exports.show", export_id=export.id), 303)
    lines = books.lines(db.session, start, end, partner_id=partner_id, site_id=site_id)
    body = stream_with_context(books.render(lines, fmt, start, end))
    media = "application/json" if fmt == "json" else "text/csv"
    return file_response(body, media, f"journal-{start}-{end}.{fmt}")


@bp.post("/accounting/sales")
@roles_required(*STAFF)
def import_sales():
    """Book a resale channel's sold report (CSV upload)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose the channel's sold report (a CSV file)."), "error")
        return redirect(url_for("money.accounting"), 303)
    report = listings.import_sales(
        db.session,
        current_actor("accounting"),
        upload.read(),
        max_rows=listings.WEB_SALES_ROWS,
    )
    db.session.commit()
    if report.problems:
        summary = ngettext(
            "%(booked)s sales booked, %(repeated)s reported before, %(num)s row refused.",
            "%(booked)s sales booked, %(repeated)s reported before, %(num)s rows refused.",
            len(report.problems),
            booked=report.booked,
            repeated=report.repeated,
        )
    else:
        summary = ngettext(
            "%(num)s sale booked, %(repeated)s reported before.",
            "%(num)s sales booked, %(repeated)s reported before.",
            report.booked,
            repeated=report.repeated,
        )
    flash(summary, "warn" if report.problems else "ok")
    for line, column, message in report.problems[:10]:  # the rest: the CLI lists them all
        if column:
            text = _(
                "Row %(row)s (%(column)s): %(problem)s",
                row=line,
                column=column,
                problem=message[:160],
            )
        else:
            text = _("Row %(row)s: %(problem)s", row=line, problem=message[:160])
        flash(text, "error")
    return redirect(url_for("money.accounting"), 303)


@bp.post("/accounting/invoices")
@roles_required(Role.ADMIN)
def issue_invoices():
    """Issue the commission invoices of an ended month, for every partner with commission."""
    try:
        year, month = ledger.parse_month(request.form.get("month", ""))
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("money.accounting"), 303)
    try:
        issued = invoices.issue_month(
            db.session, current_actor("accounting"), year, month, today=_today()
        )
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("money.accounting"), 303)
    period = f"{year:04d}-{month:02d}"
    if issued:
        flash(
            ngettext(
                "%(num)s invoice for %(month)s: %(numbers)s",
                "%(num)s invoices for %(month)s: %(numbers)s",
                len(issued),
                month=period,
                numbers=", ".join(i.number for i in issued),
            ),
            "ok",
        )
    else:
        flash(
            _(
                "No commission was booked in %(month)s: nothing to invoice.",
                month=period,
            ),
            "warn",
        )
    return redirect(url_for("money.accounting"), 303)
