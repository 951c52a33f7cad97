"""Routing screens in a real browser: the export progress bar, and the route station by keyboard."""

from __future__ import annotations

import csv
import threading

import pytest

from tests import factories
from tests.browser.conftest import browser_login
from warehouse import exports
from warehouse.db import db
from warehouse.models import Export, Grade, Role

# A browser talks to a live server thread: it only sees committed data.
pytestmark = [pytest.mark.browser, pytest.mark.commits]


@pytest.fixture
def app_config():
    return {"RESALE_EXPORT_BACKGROUND_ROWS": 100}


def test_export_progress_bar_advances_and_the_download_appears(page, app, output_dir):
    factories.listed_units(1_500)
    browser_login(page, factories.user(Role.SUPERVISOR))
    page.goto("/exports/")
    page.select_option("select[name=format]", "ebay")
    page.click("#export-form button[type=submit]")
    page.wait_for_url("**/exports/*")
    progress = page.locator("#export-progress progress")
    assert progress.get_attribute("value") == "0"
    page.screenshot(path=str(output_dir / "export-queued.png"))

    # The worker: runs the job, pausing at each progress stamp until the page has shown it.
    shown, failures = threading.Event(), []
    export_id = db.session.query(Export.id).scalar()

    def pause(rows: int) -> None:
        shown.clear()
        if not shown.wait(15):
            failures.append(f"page never showed {rows} rows")

    def worker() -> None:
        with app.app_context():
            try:
                exports.run_export(
                    db.session, export_id, exports_dir(app), progress_every=500, on_progress=pause
                )
            except Exception as error:  # reported by the test below
                failures.append(repr(error))
            finally:
                db.session.remove()

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    seen = []
    for rows in ("500", "1000", "1500"):
        page.wait_for_function(
            "rows => document.querySelector('#export-progress progress')"
            "?.getAttribute('value') === rows",
            arg=rows,
        )
        seen.append(progress.get_attribute("value"))
        page.screenshot(path=str(output_dir / f"export-progress-{rows}.png"))
        shown.set()
    page.wait_for_selector("#export-download")
    thread.join(15)
    assert failures == []
    assert seen == ["500", "1000", "1500"]
    page.screenshot(path=str(output_dir / "export-done.png"))
    with page.expect_download() as info:
        page.click("#export-download")
    with open(info.value.path(), newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 1_500


def exports_dir(app):
    from pathlib import Path

    return Path(app.instance_path) / "exports"


def test_route_station_by_keyboard_alone(page, output_dir):
    bins = factories.bins_for_every_kind()
    unit = factories.graded(Grade.OPENED)
    browser_login(page, factories.user(Role.OPERATOR))
    page.goto("/route/")
    page.keyboard.type(unit.lpn)
    page.keyboard.press("Enter")
    page.wait_for_selector(".route-outcome")
    assert page.locator(".route-outcome").inner_text() == "RESALE"
    assert bins["resale"].code in page.locator(".route-target").inner_text()
    page.screenshot(path=str(output_dir / "route-planned.png"))
    page.keyboard.type(bins["destroy"].code)  # the wrong bin first
    page.keyboard.press("Enter")
    page.wait_for_selector(".scan-message.error")
    assert "is a destroy bin" in page.locator(".scan-message.error").inner_text()
    assert page.evaluate("document.body.dataset.lastScan") == "error"
    page.keyboard.type(bins["resale"].code)
    page.keyboard.press("Enter")
    page.wait_for_selector(".scan-message.ok")
    assert f"Put away: {unit.lpn}" in page.locator(".scan-message.ok").inner_text()
    assert page.evaluate("document.body.dataset.lastScan") == "ok"
    assert page.evaluate("document.activeElement.id") == "scan-code"
    page.screenshot(path=str(output_dir / "route-done.png"))


def test_rules_screen_previews_refuses_and_saves(page, output_dir):
    partner = factories.partner("ACME")
    used = factories.graded(Grade.USED, partner=partner)
    factories.graded(Grade.NEW, partner=partner)
    browser_login(page, factories.user(Role.SUPERVISOR))
    page.goto("/rules/")
    page.select_option("select[name=rows-0-partner]", "ACME")
    page.select_option("select[name=rows-0-grade]", "used")
    page.select_option("select[name=rows-0-outcome]", "resale")
    page.fill("input[name=rows-0-discount]", "20")
    page.locator("#rules-form tbody tr").first.get_by_role("button", name="Preview").click()
    page.wait_for_selector("#rules-preview-card")
    preview = page.locator("#rules-preview-card").inner_text()
    assert used.lpn in preview
    assert "1 of the 2 most recent graded units" in preview
    # A second rule that can never apply is refused, naming it.
    page.select_option("select[name=rows-1-partner]", "ACME")
    page.select_option("select[name=rows-1-grade]", "used")
    page.select_option("select[name=rows-1-outcome]", "destroy")
    page.fill("input[name=rows-0-discount]", "")
    page.select_option("select[name=rows-0-outcome]", "donate")
    page.click("text=Save rules")
    page.wait_for_selector("#rules-error")
    assert "Rule 2 duplicates rule 1" in page.locator("#rules-error").inner_text()
    assert page.locator("[aria-invalid=true]").count() == 1
    page.screenshot(path=str(output_dir / "rules-refused.png"), full_page=True)
    page.check("input[name=rows-1-delete]")
    page.click("text=Save rules")
    page.wait_for_selector(".flash-ok")
    assert "Saved 1 rule." in page.locator(".flash-ok").inner_text()
    page.screenshot(path=str(output_dir / "rules-saved.png"), full_page=True)
