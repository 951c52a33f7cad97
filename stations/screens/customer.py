"""The customer's return page (no login): find the order, pick what goes back, get the labels.

The customer proves who they are with the order number plus the email address or postcode of
the order; look-ups are rate-limited per IP address and per order number against guessing. The
found order is remembered in the (signed) session cookie. Labels are downloaded through links
carrying a signed token, so knowing an RMA number is not enough to fetch its label.
"""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from itsdangerous import BadSignature, URLSafeSerializer

from labels.return_label import return_label_pdf
from stations import languages
from stations.auth import client_address
from stations.extensions import redis_client
from stations.htmx import file_response
from stations.security import secret_link_page
from warehouse import announcements, i18n, remedies, withdrawals
from warehouse.announcements import LineRequest
from warehouse.db import db
from warehouse.documents import return_label_for
from warehouse.errors import DomainError, InvalidInput
from warehouse.events import Actor
from warehouse.i18n import gettext as _
from warehouse.models import Order, Remedy, ReturnRequest, Withdrawal
from warehouse.ratelimit import Limit, RateLimiter
from warehouse.vocabulary import REASON_LABELS

bp = Blueprint("customer", __name__, url_prefix="/returns")

# Every look-up counts per IP; only failed ones count per order number (a guess at its email).
# The attempts are settings (RETURN_LOOKUPS_PER_IP, RETURN_LOOKUPS_PER_ORDER); windows in seconds.
PER_IP_WINDOW = 600
PER_ORDER_WINDOW = 900
SESSION_KEY = "return_order_id"


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"returnyard:{purpose}")


def label_token(rma: str) -> str:
    """The signed token in a return label's link."""
    return _serializer("return-label").dumps(rma)


def label_url(rma: str) -> str:
    """The public link to an RMA's label PDF, for mails and the API."""
    # Built from the URL map rather than `url_for`, so it also works outside a request (the
    # demo loader, jobs); the public base URL comes from the settings, not the request.
    path = current_app.url_map.bind("localhost").build(
        "customer.label", {"token": label_token(rma)}
    )
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def limiter() -> RateLimiter:
    """The rate limiter over this app's shared Redis client (with its connect/read timeouts)."""
    return RateLimiter(redis_client())


def _limits() -> tuple[Limit, Limit]:
    config = current_app.config
    return (
        Limit("lookup-ip", config["RETURN_LOOKUPS_PER_IP"], PER_IP_WINDOW),
        Limit("lookup-order", config["RETURN_LOOKUPS_PER_ORDER"], PER_ORDER_WINDOW),
    )


@bp.route("/", methods=["GET", "POST"])
def find():
    """Step 1: the order number and the email address or postcode."""
    number = request.form.get("order_number", "").strip()
    secret = request.form.get("email_or_postcode", "").strip()
    withdrawing = request.form.get("next") == "withdraw"
    if request.method == "GET":
        return render_template(
            "customer/find.html", number="", secret="", error=None, withdrawing=False
        )
    per_ip, per_order = _limits()
    order_key = number.upper().replace(" ", "")
    ip = client_address()
    # Failures are counted (a guess at someone's order), per address and per order; a customer
    # who finds their order costs nothing, so many customers behind one address are not
    # locked out by each other.
    checks = ((per_ip, ip), (per_order, order_key))
    try:
        if not number or not secret:
            raise InvalidInput(
                _("Fill in both the order number and your email address or postcode.")
            )
        limiter().take(*checks)  # counted before the look-up, so parallel guesses count too
        order = announcements.find_order(db.session, number, secret)
        limiter().give_back(*checks)
    except DomainError as error:
        response = make_response(
            render_template(
                "customer/find.html",
                number=number,
                secret=secret,
                error=error.message,
                withdrawing=withdrawing,
            ),
            error.status,
        )
        if "retry_after" in error.details:
            response.headers["Retry-After"] = str(error.details["retry_after"])
        return response
    session[SESSION_KEY] = order.id
    return redirect(url_for("customer.withdraw_page" if withdrawing else "customer.choose"), 303)


def _order_in_session() -> Order | None:
    order_id = session.get(SESSION_KEY)
    return db.session.get(Order, order_id) if order_id else None


@bp.route("/order", methods=["GET", "POST"])
def choose():
    """Step 2: which items, how many, and why."""
    order = _order_in_session()
    if order is None:
        return redirect(url_for("customer.find"), 303)
    languages.for_customer(order.language)
    error = None
    if request.method == "POST":
        try:
            lines = _lines_from_form(order)
            done = announcements.announce(
                db.session,
                order,
                lines,
                actor=Actor(label=f"customer:{order.customer_email}"),
                label_url=label_url,
                comment=request.form.get("comment", ""),
                source="customer",
            )
            db.session.commit()
        except DomainError as error_:
            db.session.rollback()
            error = error_.message
        else:
            token = _serializer("return-done").dumps([r.rma for r in done.returns])
            return redirect(url_for("customer.done", token=token), 303)
    left = announcements.returnable(db.session, order)
    exchanges = {
        line.id: remedies.exchange_options(db.session, line, order.currency)
        for line in order.lines
        if left[line.id]
    }
    return render_template(
        "customer/order.html",
        order=order,
        left=left,
        reasons=REASON_LABELS,
        exchanges=exchanges,
        form=request.form,
        error=error,
    ), (422 if error else 200)


def _lines_from_form(order: Order) -> list[LineRequest]:
    lines = []
    for line in order.lines:
        raw = request.form.get(f"qty-{line.id}", "0").strip() or "0"
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
            raise InvalidInput(
                _("%(product)s: the quantity must be a whole number", product=line.product.title)
            )
        quantity = int(raw)
        if quantity == 0:
            continue
        reason_value = request.form.get(f"reason-{line.id}", "")
        if not reason_value:
            raise InvalidInput(
                _("%(product)s: choose a reason for the return", product=line.product.title)
            )
        wanted = request.form.get(f"remedy-{line.id}", "").strip() or Remedy.REFUND.value
        remedy, _colon, exchange_sku = wanted.partition(":")
        lines.append(
            LineRequest(
                order_line_id=line.id,
                quantity=quantity,
                reason=announcements.parse_reason(reason_value),
                comment=request.form.get(f"comment-{line.id}", ""),
                remedy=remedies.parse_remedy(remedy, f"remedy-{line.id}"),
                exchange_sku=exchange_sku or None,
            )
        )
    if not lines:
        raise InvalidInput(_("Choose at least one item and how many of it you send back."))
    return lines


@bp.get("/done/<token>")
@secret_link_page
def done(token: str):
    """Step 3: the RMA numbers and their label downloads."""
    try:
        numbers = _serializer("return-done").loads(token)
    except BadSignature:
        abort(404)
    returns = db.session.query(ReturnRequest).filter(ReturnRequest.rma.in_(numbers)).all()
    returns.sort(key=lambda r: numbers.index(r.rma))
    if not returns:
        abort(404)
    languages.for_customer(returns[0].order.language)
    return render_template(
        "customer/done.html",
        returns=returns,
        order=returns[0].order,
        labels={r.rma: url_for("customer.label", token=label_token(r.rma)) for r in returns},
        reasons=REASON_LABELS,
    )


@bp.get("/label/<token>.pdf")
@secret_link_page
def label(token: str):
    """The return label PDF of the RMA the token was signed for."""
    try:
        rma = _serializer("return-label").loads(token)
    except BadSignature:
        abort(404)
    found = db.session.query(ReturnRequest).filter_by(rma=rma).one_or_none()
    if found is None:
        abort(404)
    with i18n.reading(languages.for_customer(found.order.language)):
        pdf = return_label_pdf(return_label_for(found))
    return file_response(pdf, "application/pdf", f"return-label-{rma}.pdf", inline=True)


# --- the withdrawal function (Directive 2011/83/EU Art. 11a) --------------------------------


@bp.route("/withdraw", methods=["GET", "POST"])
def withdraw_page():
    """Withdraw from the contract: find the order, choose what (everything by default), then
    confirm with a second, clearly labelled step (Art. 11a(2))."""
    order = _order_in_session()
    if order is None:
        return render_template(
            "customer/find.html", number="", secret="", error=None, withdrawing=True
        )
    languages.for_customer(order.language)
    open_lines = withdrawals.withdrawable(db.session, order)
    error = None
    if request.method == "POST":
        quantities = {}
        try:
            for line in order.lines:
                raw = request.form.get(f"units-{line.id}", "0").strip() or "0"
                if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
                    raise InvalidInput(
                        _("%(product)s: choose how many", product=line.product.title)
                    )
                quantities[line.id] = int(raw)
            row, _returns = withdrawals.withdraw(
                db.session,
                order,
                quantities,
                actor=Actor(label=f"customer:{order.customer_email}"),
                channel="customer_page",
                label_url=label_url,
                statement=request.form.get("statement", ""),
            )
            db.session.commit()
        except DomainError as caught:
            db.session.rollback()
            error = caught.message
        else:
            token = _serializer("withdrawn").dumps(row.id)
            return redirect(url_for("customer.withdrawn", token=token), 303)
    return render_template(
        "customer/withdraw.html",
        order=order,
        open_lines=open_lines,
        form=request.form,
        error=error,
    ), (422 if error else 200)


@bp.get("/withdrawn/<token>")
@secret_link_page
def withdrawn(token: str):
    """The acknowledgment on screen: when the withdrawal was received, for what, the labels."""
    try:
        withdrawal_id = _serializer("withdrawn").loads(token)
    except BadSignature:
        abort(404)
    row = db.session.get(Withdrawal, withdrawal_id) if isinstance(withdrawal_id, int) else None
    if row is None:
        abort(404)
    languages.for_customer(row.order.language)
    returns = db.session.query(ReturnRequest).filter_by(withdrawal_id=row.id).all()
    return render_template(
        "customer/withdrawn.html",
        withdrawal=row,
        order=row.order,
        returns=returns,
        labels={r.rma: url_for("customer.label", token=label_token(r.rma)) for r in returns},
        goods_back_by=row.notified_on + dt.timedelta(days=withdrawals.GOODS_BACK_DAYS),
    )
