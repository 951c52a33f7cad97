"""Real-browser fixtures: the app served on a loopback port, driven by headless Chromium.

Playwright for Python drives Debian's /usr/bin/chromium (never `playwright install`). Browser
tests run on SQLite only: the database paths are covered by the other tests on both databases.
"""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


@pytest.fixture(params=["sqlite"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def live_server(app):
    """Serve `app` on 127.0.0.1:<free port> in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh tablet-sized browser page; console errors fail the test."""
    context = browser.new_context(
        viewport={"width": 1024, "height": 768}, base_url=live_server, has_touch=True
    )
    tab = context.new_page()
    errors = watch(tab)
    tab.set_default_timeout(10_000)
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors or policy violations on the page: {errors}"


def watch(tab) -> list[str]:
    """Collect the page's uncaught JavaScript errors and Content-Security-Policy violations
    (Chromium reports those on the console): a test asserts the list stays empty."""
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))

    def console(message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            errors.append(message.text)

    tab.on("console", console)
    return errors


def browser_login(page, user) -> None:
    """Log in through the login form, by keyboard."""
    from tests.factories import PASSWORD
    from warehouse.db import db

    db.session.commit()
    page.goto("/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
