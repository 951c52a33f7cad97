"""The login screen in a real browser."""

import pytest

from tests import factories
from tests.browser.conftest import browser_login
from warehouse.models import Role

# A browser talks to a live server thread: it only sees committed data.
pytestmark = [pytest.mark.browser, pytest.mark.commits]


def test_supervisor_logs_in_by_keyboard(page, output_dir):
    user = factories.user(Role.SUPERVISOR)
    browser_login(page, user)
    assert page.locator("h1").inner_text().startswith("Hello")
    page.screenshot(path=str(output_dir / "home.png"))
