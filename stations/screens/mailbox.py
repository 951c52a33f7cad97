"""Supervisor's mailbox: what left through SMTP (the sent-log) and what the local sink received.

A newcomer sees here exactly what partners and customers get: subject, text and HTML. A
supervisor can send the test mail to any address to check that mail gets through.
"""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from stations import nav
from stations.auth import current_actor, roles_required
from stations.params import page_number
from stations.security import mail_preview
from warehouse.db import db
from warehouse.errors import InvalidInput
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.mail import request_test_mail
from warehouse.models import Role, SentMail
from warehouse.reference import LANGUAGES

bp = Blueprint("mailbox", __name__, url_prefix="/mailbox")
nav.register(
    _l("Mailbox"),
    "mailbox.index",
    {Role.SUPERVISOR},
    _l("The emails partners and customers got"),
    81,
)
# The headers shown of a mail in the local sink, with their names on the page (the technical
# ones keep their header names).
SINK_HEADERS = (
    ("From", _l("From")),
    ("To", _l("To")),
    ("Date", _l("Date")),
    ("Message-ID", "Message-ID"),
    ("Content-Language", "Content-Language"),
)

SHOWN = 50
EML_NAME = re.compile(r"^[0-9T]+-\d{4,}\.eml$")


def sink_folder() -> Path:
    return Path(current_app.instance_path) / "mail"


def _parse(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def sink_mails(text: str = "", *, limit: int = SHOWN, offset: int = 0) -> tuple[list[dict], int]:
    """The local SMTP sink's .eml files, newest first, whose recipient or subject mention
    `text`: one page of them with their headers, and how many match in all (the newest
    `SINK_SCANNED` files are searched)."""
    folder = sink_folder()
    if not folder.is_dir():
        return [], 0
    names = sorted((p.name for p in folder.iterdir() if EML_NAME.match(p.name)), reverse=True)
    text = text.strip().lower()
    mails = []
    for name in names[:SINK_SCANNED] if text else names[offset : offset + limit]:
        parsed = _parse(folder / name)
        mail = {
            "name": name,
            "message_id": str(parsed.get("Message-ID", "")),
            "to": str(parsed.get("To", "")),
            "subject": str(parsed.get("Subject", "")),
            "date": str(parsed.get("Date", "")),
        }
        if not text or text in mail["to"].lower() or text in mail["subject"].lower():
            mails.append(mail)
    if text:
        return mails[offset : offset + limit], len(mails)
    return mails, len(names)


SINK_SCANNED = 5000


@bp.get("")
@roles_required(Role.SUPERVISOR)
def index():
    """Sent mails and what the local sink received, searchable, a page at a time."""
    text = request.args.get("q", "").strip()[:200]
    page = page_number()
    query = sa.select(SentMail)
    if text:
        like = f"%{text.lower()}%"
        query = query.where(
            sa.or_(
                sa.func.lower(SentMail.recipient).like(like),
                sa.func.lower(SentMail.subject).like(like),
                sa.func.lower(SentMail.template).like(like),
            )
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    sent = db.session.scalars(
        query.order_by(SentMail.sent_at.desc(), SentMail.id.desc())
        .limit(SHOWN)
        .offset((page - 1) * SHOWN)
    ).all()
    received, received_total = sink_mails(text, offset=(page - 1) * SHOWN)
    deliveries: dict[str, int] = {}
    for mail in received:
        deliveries[mail["message_id"]] = deliveries.get(mail["message_id"], 0) + 1
    return render_template(
        "mailbox/index.html",
        sent=sent,
        sent_total=total,
        received=received,
        received_total=received_total,
        deliveries=deliveries,
        languages=LANGUAGES,
        sink_folder=sink_folder(),
        page=page,
        pages=max(1, -(-max(total, received_total) // SHOWN)),
        q=text,
    )


@bp.get("/sent/<int:mail_id>")
@roles_required(Role.SUPERVISOR)
def show_sent(mail_id: int):
    mail = db.session.get(SentMail, mail_id) or abort(404)
    return render_template(
        "mailbox/show.html",
        subject=mail.subject,
        headers=[
            (_("To"), mail.recipient),
            ("Message-ID", mail.message_id),
            (_("Template"), f"{mail.template} ({mail.language})"),
            (_("Sent"), mail.sent_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ],
        text=mail.body_text,
        html_url=url_for("mailbox.sent_html", mail_id=mail.id) if mail.body_html else None,
    )


@bp.get("/sent/<int:mail_id>/html")
@roles_required(Role.SUPERVISOR)
def sent_html(mail_id: int):
    """The sent mail's HTML part, alone, for the preview frame (its own strict policy)."""
    mail = db.session.get(SentMail, mail_id) or abort(404)
    if not mail.body_html:
        abort(404)
    return mail_preview(mail.body_html)


def _sink_mail(name: str) -> tuple[Path, email.message.EmailMessage]:
    path = sink_folder() / name
    if not EML_NAME.match(name) or not path.is_file():
        abort(404)
    return path, _parse(path)


@bp.get("/sink/<name>")
@roles_required(Role.SUPERVISOR)
def show_received(name: str):
    path, parsed = _sink_mail(name)
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    return render_template(
        "mailbox/show.html",
        subject=str(parsed.get("Subject", "")),
        headers=[(str(label), str(parsed.get(header, ""))) for header, label in SINK_HEADERS]
        + [(_("File"), str(path))],
        text=text.get_content() if text is not None else "",
        html_url=url_for("mailbox.received_html", name=name) if html is not None else None,
    )


@bp.get("/sink/<name>/html")
@roles_required(Role.SUPERVISOR)
def received_html(name: str):
    """A delivered mail's HTML part, alone, for the preview frame."""
    _path, parsed = _sink_mail(name)
    html = parsed.get_body(("html",))
    if html is None:
        abort(404)
    return mail_preview(html.get_content())


@bp.post("/test")
@roles_required(Role.SUPERVISOR)
def send_test():
    to = request.form.get("to", "")
    language = request.form.get("language", "en")
    try:
        request_test_mail(db.session, current_actor("mailbox"), to=to, language=language)
    except InvalidInput as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("mailbox.index"), 303)
    db.session.commit()
    flash(
        _(
            "Test mail to %(address)s is queued; it appears here once a worker sent it.",
            address=to.strip(),
        ),
        "ok",
    )
    return redirect(url_for("mailbox.index"), 303)
