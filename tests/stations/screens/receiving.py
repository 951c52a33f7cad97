"""The receiving station as a test drives it: a logged-in station session and the test parcel."""

from __future__ import annotations

import re

from tests.helpers import csrf_from, login_as
from warehouse import codes

HX = {"HX-Request": "true"}
RMA = "RMA-TEST01" + codes.check_symbol("TEST01")
FWD = "RMA-FWD001" + codes.check_symbol("FWD001")


class Station:
    """A logged-in operator's browser session at the receiving station."""

    def __init__(self, client, user):
        self.client = client
        login_as(client, user)
        page = client.get("/receive/")
        assert page.status_code == 200
        self.token = csrf_from(page.get_data(as_text=True))
        self.context = {"rma_id": "", "seen": "", "serial_for": "", "unit_id": ""}

    def post(self, url, data=None, htmx=True):
        headers = {"X-CSRFToken": self.token, **(HX if htmx else {})}
        response = self.client.post(url, data=data or {}, headers=headers)
        self._remember(response)
        return response

    def scan(self, code, htmx=True, **overrides):
        return self.post("/receive/scan", {**self.context, **overrides, "code": code}, htmx)

    def _remember(self, response):
        html = response.get_data(as_text=True)
        for name in self.context:
            match = re.search(rf'form="scan-form" name="{name}" value="([^"]*)"', html)
            if match:
                self.context[name] = match.group(1)
