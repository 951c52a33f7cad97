"""The policy watcher itself: a page that breaks the Content-Security-Policy is caught."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser.conftest import browser_login, watch
from warehouse.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.commits]


def test_an_inline_style_or_script_is_refused_and_reported(browser, live_server):
    context = browser.new_context(base_url=live_server)
    tab = context.new_page()
    errors = watch(tab)
    try:
        browser_login(tab, factories.user(Role.OPERATOR))
        tab.goto("/receive/")
        # What an injected attribute or script would do: the browser refuses both.
        tab.evaluate(
            """() => {
                const box = document.createElement('div');
                box.innerHTML = '<p style="color: red">x</p><img src="x" onerror="window.ran=1">';
                document.body.append(box);
            }"""
        )
        tab.wait_for_timeout(300)
        assert tab.evaluate("() => window.ran") is None
    finally:
        context.close()
    assert any("Content Security Policy" in error for error in errors), errors
