"""The customer mails of this stage render in every language, with subject and links."""

from __future__ import annotations

import pytest
from jinja2_fragments import render_block

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
GREETING = {"en": "Hello Kim", "nl": "Hallo Kim", "de": "Hallo Kim", "fr": "Bonjour Kim"}


@pytest.mark.parametrize("template", sorted(CONTEXTS))
@pytest.mark.parametrize("lang", ["en", "nl", "de", "fr"])
def test_mail_renders(app, template, lang):
    context = {**CONTEXTS[template], "lang": lang}
    subject = render_block(app.jinja_env, f"email/{template}.txt", "subject", **context)
    assert "RMA-ABCDEF0" in subject
    assert "\n" not in subject.strip()
    for suffix in ("txt", "html"):
        body = app.jinja_env.get_template(f"email/{template}.{suffix}").render(**context)
        assert GREETING[lang] in body
        assert "MP-1" in body
    if template == "return_announced":
        assert "http://x/l.pdf" in body
