"""The money screens: the partner's statement in words (HTML, CSV, PDF), its invoices, the
accounting page (journal download, issuing invoices, reconciliation) and partner isolation."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from tests import factories
from tests.helpers import csrf_from, login_as, pdf_text
from warehouse import orders
from warehouse.db import db, utcnow
from warehouse.events import Actor
from warehouse.models import Invoice, LedgerEntry, Role, User


def _books():
    acme = factories.partner(code="ACME", name="Acme Outdoor", commission_rate_bp=1000)
    other = factories.partner(code="BOLT", name="Bolt Tools")
    last_month = (utcnow().date().replace(day=1) - dt.timedelta(days=1)).replace(day=10)
    for seller, price in ((acme, 5000), (other, 7000)):
        item = factories.product(seller, prices={"EUR": price})
        order = factories.order([(item, 1)], delivered_days_ago=None)
        orders.apply_tracking(
            db.session,
            order.shipments[0],
            Actor(label="t"),
            tracking_number=None,
            carrier=None,
            delivered_at=dt.datetime.combine(last_month, dt.time(12), tzinfo=dt.UTC),
        )
    for entry in db.session.query(LedgerEntry):  # recorded last month
        entry.booked_on = last_month
    person = factories.user(Role.PARTNER, acme)
    db.session.commit()
    return acme, other, person, f"{last_month:%Y-%m}"


def test_the_partner_reads_its_statement_in_words_and_downloads_it(client, app):
    _, _, person, month = _books()
    login_as(client, person)
    page = client.get(f"/portal/statement?month={month}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "the marketplace owes you" in html
    assert "you owe the marketplace" in html
    assert "Balance at the end of the month" in html
    assert "Bolt" not in html  # another partner's sale
    assert "70.00" not in html
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"/portal/statement.csv?month={month}").get_data(as_text=True))
        )
    )
    assert [row["balance_after_minor"] for row in rows] == ["5000", "4500"]
    text = pdf_text(client.get(f"/portal/statement.pdf?month={month}").data)
    assert "€45.00" in text
    assert "Acme Outdoor" in text
    assert client.get("/portal/statement.pdf?month=2026-13").status_code == 400
    assert client.get("/accounting").status_code == 403


def test_an_admin_issues_the_months_invoices_and_the_partner_sees_its_own(client, app):
    acme, other, person, month = _books()
    admin = factories.user(Role.ADMIN)
    acme_id, other_id, person_id = acme.id, other.id, person.id
    db.session.commit()
    login_as(client, admin)
    page = client.get("/accounting")
    assert page.status_code == 200
    assert "Check the books now" in page.get_data(as_text=True)
    assert "The money records agree" in client.get("/accounting?check=1").get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    issued = client.post("/accounting/invoices", data={"month": month, "csrf_token": token})
    assert issued.status_code == 303
    numbers = {i.partner_id: i.number for i in db.session.query(Invoice)}
    assert set(numbers) == {acme_id, other_id}
    journal = client.get(f"/accounting/journal?from={month}-01&to={month}-28&partner=ACME")
    assert journal.status_code == 200
    assert {
        row["partner"] for row in csv.DictReader(io.StringIO(journal.get_data(as_text=True)))
    } == {"ACME"}
    client.post("/logout", data={"csrf_token": token})

    login_as(client, db.session.get(User, person_id))
    mine = client.get("/portal/invoices").get_data(as_text=True)
    assert numbers[acme_id] in mine
    assert numbers[other_id] not in mine
    pdf = client.get(f"/portal/invoices/{numbers[acme_id]}.pdf")
    assert "Commission invoice" in pdf_text(pdf.data)
    assert client.get(f"/portal/invoices/{numbers[other_id]}.pdf").status_code == 404


def test_the_partner_confirms_a_refund_it_paid_in_the_portal(client, app):
    from warehouse.models import Grade, Unit

    unit = factories.received(refund_paid_by="partner")
    factories.grade(unit, Grade.NEW)
    person = factories.user(Role.PARTNER, unit.partner)
    other = factories.user(Role.PARTNER, factories.partner())
    unit_id, lpn = unit.id, unit.lpn
    db.session.commit()
    login_as(client, db.session.get(User, other.id))
    page = client.get("/portal/refunds")
    assert lpn not in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    client.post(f"/portal/refunds/{lpn}/paid", data={"csrf_token": token})
    assert db.session.get(Unit, unit_id).refund_paid_at is None  # not another partner's
    client.post("/logout", data={"csrf_token": token})
    login_as(client, db.session.get(User, person.id))
    page = client.get("/portal/refunds")
    assert lpn in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    done = client.post(
        f"/portal/refunds/{lpn}/paid", data={"csrf_token": token, "reference": "TRX-1"}
    )
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(Unit, unit_id).refund_payment_ref == "TRX-1"
    waiting = client.get("/portal/refunds").get_data(as_text=True)
    assert f'data-lpn="{lpn}"' not in waiting  # only the flash names it now


@pytest.mark.commits  # the worker reads what the request committed
def test_a_long_journal_is_written_in_the_background_with_progress(client, app, jobs):
    """Above the background threshold the journal goes through the outbox and a real worker;
    its export page shows the progress, then the download, which parses back."""
    from tests.helpers import drain, relay
    from warehouse.models import Export, ExportStatus, Outbox

    _, _, _, month = _books()
    app.config["RESALE_EXPORT_BACKGROUND_ROWS"] = 1
    admin = factories.user(Role.ADMIN)
    db.session.commit()
    login_as(client, admin)
    started = client.get(f"/accounting/journal?from={month}-01&to={month}-28&format=csv")
    assert started.status_code == 303
    export_id = db.session.query(Export.id).filter_by(kind="journal").scalar()
    assert started.headers["Location"].endswith(f"/exports/{export_id}")
    relay(app, jobs)
    drain(app, jobs)
    db.session.expire_all()
    export = db.session.get(Export, export_id)
    assert export.status == ExportStatus.DONE
    assert export.progress == 8  # four entries, two lines each
    job = db.session.query(Outbox).filter_by(kind="export_journal").one()
    assert job.done_at is not None  # the job itself finished, not only the file
    assert job.attempts <= 1
    page = client.get(f"/exports/{export_id}").get_data(as_text=True)
    assert "accounting journal" in page
    download = client.get(f"/exports/{export_id}/download")
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    download.close()
    assert len(rows) == 8
    assert sum(int(r["debit_minor"]) for r in rows) == sum(int(r["credit_minor"]) for r in rows)
