"""The customer mails of this stage render in every language, with subject and links."""

from __future__ import annotations

import pytest

from warehouse import i18n
from warehouse.mail import render_mail

CONTEXTS = {
    "return_announced": {
        "order_number": "MP-1",
        "customer_name": "Kim",
        "returns": [{"rma": "RMA-ABCDEF0", "label_url": "http://x/l.pdf", "partner": "Fjell"}],
    },
    "return_received": {
        "rma": "RMA-ABCDEF0",
        "order_number": "MP-1",
        "customer_name": "Kim",
        "received_on": "2026-11-26",
        "refund_due_on": "2026-12-08",
    },
}


@pytest.mark.parametrize("template", sorted(CONTEXTS))
@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_mail_renders(template, lang):
    mail = render_mail(template, lang, CONTEXTS[template])
    assert "RMA-ABCDEF0" in mail.subject
    assert "\n" not in mail.subject.strip()
    for body in (mail.text, mail.html):
        assert i18n.in_language(lang, "Hello %(name)s,", name="Kim") in body
        assert "MP-1" in body
    if template == "return_announced":
        assert "http://x/l.pdf" in mail.text
