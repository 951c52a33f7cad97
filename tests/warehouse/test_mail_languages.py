"""Every mail in every language: each template renders in each of the eight languages, says it
in that language (subject and body differ from the English ones), writes money and days as the
reader does, and leaves no code or placeholder showing."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from warehouse import i18n
from warehouse.mail import TEMPLATES, render_mail

MAILS = sorted(
    path.stem for path in (TEMPLATES / "email").glob("*.txt") if not path.stem.startswith("_")
)

# One value for every variable any mail template reads (what the mail loaders give them).
SAMPLE = {
    "amount_minor": 123456,
    "original_minor": 150000,
    "proposed_minor": 99950,
    "currency": "EUR",
    "at_partner": False,
    "batch_number": "RTV-00042",
    "carrier": "DHL",
    "case_id": 17,
    "case_path": "/portal/cases/17",
    "checklist": {"accessories_complete": False, "powers_on": True},
    "count": 3,
    "customer_name": "Kim Berg",
    "days": 7,
    "days_open": 5,
    "detail": "2 x Cup missing",
    "email": "kim@example.org",
    "extends_guarantee": True,
    "goods_back_by": "2026-12-14",
    "grade": "light_damage",
    "grounds": ["diminished value, light damage: -20 %", "accessories incomplete: -5 %"],
    "guarantee_ends_on": "2028-12-01",
    "kind": "missing_unit",
    "line_product": "Trail shoe",
    "lines": [{"quantity": 1, "product": "Trail shoe", "sku": "TS-42"}],
    "link": "https://returns.example/account/password/abc",
    "link_days": 7,
    "link_paths": {"approve": "/case-link/a", "adjust": "/case-link/b", "reject": "/case-link/c"},
    "lpn": "LPN-0000123",
    "lpns": ["LPN-0000123", "LPN-0000124"],
    "missing": 1,
    "name": "Sam Lind",
    "note": "",
    "notes": "scratch on the lid",
    "notified_at": "2026-12-01 10:15:00 CET",
    "order_number": "MP-100200",
    "outcome": "partial",
    "paid_by": "partner",
    "partner": "Fjell Outdoor",
    "partner_name": "Fjell Outdoor",
    "photo_paths": ["/photos/1"],
    "product": "Trail shoe",
    "purpose": "repair",
    "reason": "diminished value, light damage: -20 %",
    "received_on": "2026-12-01",
    "refund_by": "2026-12-15",
    "refund_due_on": "2026-12-15",
    "remedy": "replacement",
    "repair_note": "new zip",
    "requested_at": "2026-12-01 10:15",
    "requested_by": "admin@returnyard.example",
    "returns": [
        {"rma": "RMA-ABC123", "partner": "Fjell Outdoor", "label_url": "https://r.example/l/1"}
    ],
    "rma": "RMA-ABC123",
    "rows": [
        {
            "refund_due_on": "2026-12-03",
            "rma": "RMA-ABC123",
            "lpn": "LPN-0000123",
            "stage": "case_open",
        }
    ],
    "sent_product": "Trail shoe, size 43",
    "site": "WAL",
    "sku": "TS-43",
    "statement": "I withdraw from the contract.",
    "tracking": "JVGL0123456789",
    "tracking_number": "JVGL0123456789",
    "unit_count": 2,
    "public_url": "https://returns.example",
}
CODES = ("light_damage", "missing_unit", "accessories_complete", "case_open")


def test_the_sample_covers_every_mail():
    assert len(MAILS) >= 18
    assert all((TEMPLATES / "email" / f"{name}.txt").is_file() for name in MAILS)


@pytest.mark.parametrize("language", i18n.LANGUAGES)
@pytest.mark.parametrize("template", MAILS)
def test_every_mail_renders_in_every_language(template, language):
    mail = render_mail(template, language, SAMPLE)
    english = render_mail(template, "en", SAMPLE)
    assert mail.subject
    assert mail.text.strip()
    for part in filter(None, (mail.subject, mail.text, mail.html)):
        assert "%(" not in part, part
        assert not any(code in part for code in CODES), part
    if mail.html is not None:
        assert f'lang="{language}"' in mail.html
    if language != "en":
        assert mail.subject != english.subject
        assert mail.text != english.text


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_money_and_days_in_mails_are_the_readers(language):
    mail = render_mail("refund_outcome_customer", language, SAMPLE)
    with i18n.reading(language):
        assert i18n.money(123456, "EUR") in mail.text
        assert i18n.money(150000, "EUR") in mail.text
    received = render_mail("return_received", language, SAMPLE)
    with i18n.reading(language):
        assert i18n.date(dt.date(2026, 12, 15)) in received.text


def test_the_announcement_mail_says_announced_not_received():
    """The wording bug of issue 15: nothing has arrived when a return is announced."""
    for language, received in (("nl", "ontvangen"), ("de", "erhalten"), ("en", "received")):
        mail = render_mail("return_announced", language, SAMPLE)
        assert received not in (mail.subject + mail.text).lower(), language


def test_no_mail_template_picks_its_language_by_hand():
    for path in (TEMPLATES / "email").iterdir():
        source = Path(path).read_text(encoding="utf-8")
        assert "tr(" not in source, path.name
        assert not re.search(r"lang\s*==", source), path.name


def test_joined_grounds_are_retold_one_by_one():
    """A decision's reason joins its grounds with '; '; every one is said in the reader's words,
    also one that holds '; ' itself, and words that are no known sentence stay as written."""
    from warehouse import grounds

    refused = grounds.say("remedy_refused", why=grounds.say("no_remedy_guarantee", remedy="repair"))
    deducted = grounds.say("diminished", grade="used", percent="10 %")
    joined = "; ".join([refused, deducted, "a partner's own words"])
    with i18n.reading("de"):
        told = grounds.retell(joined)
        assert told == "; ".join(
            [grounds.retell(refused), grounds.retell(deducted), "a partner's own words"]
        )
        assert grounds.retell(refused) != refused
        assert grounds.retell(deducted) != deducted
    assert grounds.retell(joined) == joined  # English readers read it as stored
