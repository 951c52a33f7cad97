"""Each decision path end to end: the mail leaves through the outbox, RQ and SMTP into a real
sink on loopback, and the link parsed out of the received mail is clicked through the app."""

from __future__ import annotations

import email
import email.policy
import re

import pytest

from tests import factories
from tests.helpers import csrf_from, drain, relay
from warehouse import cases, i18n
from warehouse.db import db, utcnow
from warehouse.deadlines import local_date
from warehouse.models import Case, CaseStatus, Event, RefundState, Role, Unit


def delivered(app, jobs, sink) -> list[email.message.EmailMessage]:
    """Relay the outbox, run the workers, and return every mail the sink holds, parsed."""
    relay(app, jobs)
    drain(app, jobs)
    return [
        email.message_from_bytes(mail.path.read_bytes(), policy=email.policy.default)
        for mail in sink.received
    ]


def to(messages, address):
    return [m for m in messages if m["To"] == address]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def link_in(message, label: str, public_url: str) -> str:
    """The path of the link printed on the line after `label` in the text body."""
    body = text_of(message)
    match = re.search(re.escape(label) + r"[^\n]*:\s*" + re.escape(public_url) + r"(/\S+)", body)
    assert match, f"no {label!r} link in:\n{body}"
    return match.group(1)


def click(client, path: str, **form):
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True)), **form})


@pytest.mark.parametrize(
    ("label", "form", "status", "amount", "outcome"),
    [
        ("Approve the proposed refund", {}, CaseStatus.APPROVED, 4499, "Partial refund"),
        (
            "Adjust the amount",
            {"amount": "30.00", "reason": "Deep scratch on the lid"},
            CaseStatus.ADJUSTED,
            3000,
            "Partial refund",
        ),
        ("Reject the refund", {"reason": "Worn for weeks"}, CaseStatus.REJECTED, 0, "No refund"),
    ],
    ids=["approve", "adjust", "reject"],
)
def test_case_email_link_decides_the_case_and_the_customer_hears_why(
    app, client, jobs, mail_sink, label, form, status, amount, outcome
):
    case = factories.open_case()
    partner_email = case.partner.contact_email
    customer_email = case.return_request.order.customer_email
    [mail] = to(delivered(app, jobs, mail_sink), partner_email)
    assert case.return_request.rma in mail["Subject"]
    assert "€44.99" in mail["Subject"]
    body = text_of(mail)
    assert "diminished value, used: -10 %" in body
    assert "Accessories complete yes" in body
    path = link_in(mail, label, app.config["PUBLIC_URL"])

    response = click(client, path, **form)
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.expire_all()
    decided = db.session.get(Case, case.id)
    assert (decided.status, decided.approved_minor, decided.decided_via) == (status, amount, "link")

    mail_sink.received.clear()
    [outcome_mail] = to(delivered(app, jobs, mail_sink), customer_email)
    assert outcome_mail["Subject"].startswith(outcome)
    if form.get("reason"):
        assert form["reason"] in text_of(outcome_mail)
    # The link has done its work: opening it again is refused and changes nothing.
    again = client.get(path)
    assert again.status_code == 403
    assert "already used" in again.get_data(as_text=True)


def test_auto_approval_mails_the_partner_payout_and_the_customer(app, jobs, mail_sink):
    unit = factories.received(language="de")
    unit.return_request.order.language = "fr"
    factories.grade(unit, "new")
    db.session.commit()
    messages = delivered(app, jobs, mail_sink)
    [partner_mail] = to(messages, unit.partner.contact_email)
    [customer_mail] = to(messages, unit.return_request.order.customer_email)
    assert (
        partner_mail["Subject"].replace("\xa0", " ")
        == f"Erstattung genehmigt: 49,99 € für {unit.return_request.rma}"
    )
    please_pay = i18n.in_language("de", "Please pay this refund out to the customer by %(day)s.")
    assert please_pay.split("%(day)s")[0] in text_of(partner_mail)
    assert (
        customer_mail["Subject"]
        .replace("\xa0", " ")
        .startswith("Votre remboursement est approuvé : 49,99 €")
    )
    assert db.session.get(Unit, unit.id).refund_state == RefundState.APPROVED


@pytest.mark.parametrize("language", ["en", "nl", "de", "fr"])
def test_case_mail_in_each_language_carries_three_working_links(
    app, client, jobs, mail_sink, language
):
    case = factories.open_case(language=language)
    [mail] = to(delivered(app, jobs, mail_sink), case.partner.contact_email)
    paths = re.findall(re.escape(app.config["PUBLIC_URL"]) + r"(/case-link/\S+)", text_of(mail))
    assert len(paths) == 3
    html = mail.get_body(("html",)).get_content()
    for path in paths:
        assert path in html
        assert client.get(path).status_code == 200


def test_reminder_and_escalation_mails_arrive(app, client, jobs, mail_sink):
    import datetime as dt

    case = factories.open_case(consult_escalate_days=2)
    supervisor = factories.user(Role.SUPERVISOR)
    db.session.commit()
    delivered(app, jobs, mail_sink)
    mail_sink.received.clear()
    opened = local_date(case.opened_at, case.unit.site.timezone)  # the site's calendar day
    cases.escalate_due_cases(
        db.session,
        opened + dt.timedelta(days=4),
        links=cases.CaseLinks.from_settings(app.config),
    )
    db.session.commit()
    messages = delivered(app, jobs, mail_sink)
    [reminder] = to(messages, case.partner.contact_email)
    assert reminder["Subject"].startswith("Reminder: decide the refund")
    [escalation] = to(messages, supervisor.email)
    assert f"#{case.id}" in escalation["Subject"]
    # The reminder's approve link works.
    path = link_in(reminder, "Approve the proposed refund", app.config["PUBLIC_URL"])
    assert click(client, path).status_code == 200
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == CaseStatus.APPROVED


def test_the_hourly_job_reminds_and_escalates(app, jobs, mail_sink):
    import datetime as dt

    from warehouse.jobs import PERIODIC, JobContext, run

    assert PERIODIC["escalate_consult_cases"].every == dt.timedelta(hours=1)
    case = factories.open_case(consult_escalate_days=1)
    supervisor = factories.user(Role.SUPERVISOR)
    db.session.commit()
    # The relay also schedules this hour's run: nothing is due yet for a fresh case.
    delivered(app, jobs, mail_sink)
    assert db.session.query(Event).filter_by(kind="case.reminded").count() == 0
    mail_sink.received.clear()
    case.opened_at = case.opened_at - dt.timedelta(days=3)
    db.session.commit()
    job = JobContext(db.session, app.config, "escalate_consult_cases:test", utcnow())
    assert run("escalate_consult_cases", job, {}) == "reminded 1, escalated 1"
    db.session.commit()
    assert run("escalate_consult_cases", job, {}) == "reminded 0, escalated 0"
    db.session.commit()
    messages = delivered(app, jobs, mail_sink)
    assert len(to(messages, case.partner.contact_email)) == 1
    assert len(to(messages, supervisor.email)) == 1
    assert db.session.query(Event).filter_by(kind="case.escalated").count() == 1


def test_out_of_window_reject_reaches_the_customer_with_the_reason(app, jobs, mail_sink):
    unit = factories.received(out_of_window="reject", delivered_days_ago=60)
    factories.grade(unit, "new")
    db.session.commit()
    assert db.session.get(Unit, unit.id).refund_state == RefundState.REJECTED
    messages = delivered(app, jobs, mail_sink)
    [customer_mail] = to(messages, unit.return_request.order.customer_email)
    assert customer_mail["Subject"].startswith("No refund")
    assert "after the return window" in text_of(customer_mail)
    assert to(messages, unit.partner.contact_email) == []  # nothing for the partner to do
