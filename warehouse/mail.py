"""Emails to customers and partners, always sent through the outbox.

Caller contract (every stage uses it): `queue_mail(session, template=..., to=..., language=...,
context=..., key=...)` inside the transaction of the state change that causes the mail.

Templates are `templates/email/<template>.txt` and `templates/email/<template>.html`. The .txt
defines `{% block subject %}`; everything else in it is the plain-text body. The .html is the
HTML body (it may extend `email/_layout.html`). Both are rendered for a reader of `language`
(`warehouse.i18n`): `_()` / `ngettext` translate from the gettext catalogs, and the filters of
`warehouse.wording` (`money`, `day`, `grade`, `ground`...) write in the reader's locale. They
get `lang` (one of `i18n.LANGUAGES`), `public_url`, plus the `context` values, which must be
JSON-serialisable (ids, strings, integers: never ORM objects). A stage that needs more than ids
at send time registers a loader with `@mail_context("<template>")`: `loader(session, context)
-> dict` runs in the sending job and its result is added to the template variables, so the
mail shows the data as it is when it leaves.

Sending (the `send_email` job kind): the job looks the key up in `SentMail` first and does not
send a mail that already left; otherwise it renders, sends through SMTP (text + HTML alternative,
Message-ID derived from the key) and writes the `SentMail` row right after, committed with the
job. The one window left: the process dies after the SMTP server accepted the mail and before
that commit. The retried job then sends the mail again with the same Message-ID, which lets the
receiving side (and our mailbox page) recognise the duplicate.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import smtplib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import jinja2
import sqlalchemy as sa
from sqlalchemy.orm import Session

from warehouse import i18n
from warehouse.db import utcnow
from warehouse.errors import InvalidInput
from warehouse.i18n import gettext as _
from warehouse.jobs import JobContext, job_kind
from warehouse.models import Outbox, SentMail
from warehouse.outbox import enqueue

SEND_EMAIL = "send_email"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def queue_mail(
    session: Session,
    *,
    template: str,
    to: str,
    language: str,
    context: dict[str, Any],
    key: str,
    available_at: dt.datetime | None = None,
) -> Outbox:
    """Queue one email; `key` names the effect so it is sent once (e.g. 'received:RMA-1')."""
    if "@" not in to:
        raise InvalidInput(_("%(email)s is not an email address", email=repr(to)), field="to")
    return enqueue(
        session,
        SEND_EMAIL,
        {
            "template": template,
            "to": to,
            "language": i18n.supported(language) or i18n.DEFAULT,
            "context": context,
        },
        f"mail:{key}",
        available_at=available_at,
    )


# -- templates ----------------------------------------------------------------------------------

MAIL_CONTEXT: dict[str, Callable[[Session, dict[str, Any]], dict[str, Any]]] = {}


def mail_context(template: str):
    """Register `loader(session, context) -> dict` that adds send-time data for `template`."""

    def decorator(loader):
        MAIL_CONTEXT[template] = loader
        return loader

    return decorator


def _environment() -> jinja2.Environment:
    from warehouse import wording

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html"]),
        keep_trailing_newline=True,
    )
    wording.install(env)
    return env


_ENV: jinja2.Environment | None = None


def environment() -> jinja2.Environment:
    """The Jinja environment for email templates (autoescaped for .html only)."""
    global _ENV
    if _ENV is None:
        _ENV = _environment()
    return _ENV


@dataclass(frozen=True)
class RenderedMail:
    """A mail ready to send: subject, text and HTML."""

    subject: str
    text: str
    html: str | None


def render_mail(template: str, language: str, variables: Mapping[str, Any]) -> RenderedMail:
    """Subject, text and HTML of `template` in `language` with `variables`."""
    with i18n.reading(language) as lang:
        return _render(environment(), template, {**variables, "lang": lang})


def _render(env: jinja2.Environment, template: str, values: dict[str, Any]) -> RenderedMail:
    text_template = env.get_template(f"email/{template}.txt")
    context = text_template.new_context(dict(values))
    if "subject" not in text_template.blocks:
        raise InvalidInput(
            _("email/%(template)s.txt has no subject block", template=template), field="template"
        )
    subject = " ".join("".join(text_template.blocks["subject"](context)).split())
    # The body is the .txt without its subject block.
    context = text_template.new_context(dict(values))
    context.blocks["subject"] = [lambda _context: iter(())]
    text = "".join(text_template.root_render_func(context)).strip() + "\n"
    html = None
    if (TEMPLATES / "email" / f"{template}.html").is_file():
        html = env.get_template(f"email/{template}.html").render(values, subject=subject)
    return RenderedMail(subject, text, html)


# -- sending ------------------------------------------------------------------------------------


def message_id_for(idempotency_key: str, mail_from: str) -> str:
    """A Message-ID that is the same for every attempt at one mail, so duplicates are visible."""
    domain = email.utils.parseaddr(mail_from)[1].rpartition("@")[2] or "returnyard.invalid"
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def build_message(
    rendered: RenderedMail, *, to: str, language: str, idempotency_key: str, mail_from: str
) -> EmailMessage:
    """A multipart/alternative message (text, then HTML) with a stable Message-ID."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = message_id_for(idempotency_key, mail_from)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    if rendered.html is not None:
        message.add_alternative(rendered.html, subtype="html")
    # Last: setting the content drops (or moves into a part) every Content-* header before it.
    message["Content-Language"] = language
    return message


def smtp_send(message: EmailMessage, settings: Mapping[str, Any]) -> None:
    """Hand `message` to the SMTP server of SMTP_HOST:SMTP_PORT (STARTTLS/login if configured)."""
    host, port = settings["SMTP_HOST"], int(settings["SMTP_PORT"])
    with smtplib.SMTP(host, port, timeout=float(settings["SMTP_TIMEOUT"])) as smtp:
        if settings["SMTP_STARTTLS"]:
            smtp.starttls()
        if settings["SMTP_USERNAME"]:
            smtp.login(settings["SMTP_USERNAME"], settings["SMTP_PASSWORD"])
        smtp.send_message(message)


@job_kind(SEND_EMAIL, queue="mail", timeout=90)
def send_email(job: JobContext, payload: dict[str, Any]) -> str:
    """Send one queued mail unless the sent-log says it left already; log it right after."""
    session = job.session
    sent = session.scalar(
        sa.select(SentMail).where(SentMail.idempotency_key == job.idempotency_key)
    )
    if sent is not None:
        return f"already sent {sent.message_id} at {sent.sent_at.isoformat()}"
    template, language = payload["template"], payload.get("language", "en")
    context = dict(payload.get("context") or {})
    variables = {**context, "public_url": job.settings["PUBLIC_URL"]}
    loader = MAIL_CONTEXT.get(template)
    if loader is not None:
        variables.update(loader(session, context))
    rendered = render_mail(template, language, variables)
    mail_from = job.settings["MAIL_FROM"]
    message = build_message(
        rendered,
        to=payload["to"],
        language=language,
        idempotency_key=job.idempotency_key,
        mail_from=mail_from,
    )
    smtp_send(message, job.settings)
    session.add(
        SentMail(
            idempotency_key=job.idempotency_key,
            message_id=message["Message-ID"],
            recipient=payload["to"],
            subject=rendered.subject[:250],
            template=template,
            language=language,
            body_text=rendered.text,
            body_html=rendered.html,
            sent_at=utcnow(),
        )
    )
    session.flush()
    return message["Message-ID"]


def request_test_mail(session: Session, actor, *, to: str, language: str = "en") -> Outbox:
    """Queue the test mail a supervisor sends to check that mail reaches people."""
    from warehouse.events import record
    from warehouse.models import User

    if language not in i18n.LANGUAGES:
        raise InvalidInput(
            _(
                "%(language)s is not one of %(languages)s",
                language=repr(language),
                languages=", ".join(i18n.LANGUAGES),
            ),
            field="language",
        )
    to = to.strip()
    local, _at, domain = to.partition("@")
    if not local or "." not in domain or any(c.isspace() for c in to):
        raise InvalidInput(_("%(email)s is not an email address", email=repr(to)), field="to")
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None:
        raise InvalidInput(_("only a logged-in user can request a test mail"), field="to")
    event = record(session, actor, "mail.test_requested", user, to=to, language=language)
    session.flush()
    return queue_mail(
        session,
        template="test_mail",
        to=to,
        language=language,
        context={
            "requested_by": user.name,
            "requested_at": utcnow().strftime("%Y-%m-%d %H:%M"),
        },
        key=f"test:{event.id}",
    )
