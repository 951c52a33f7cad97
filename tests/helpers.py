"""Action helpers for tests: log in, scan, read row counts."""

from __future__ import annotations

import re

from tests.factories import PASSWORD
from warehouse.db import db


def login_as(client, user) -> None:
    """Log `user` in through the real login form (CSRF token included)."""
    db.session.commit()
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, response.get_data(as_text=True)


def csrf_from(html: str) -> str:
    """The CSRF token of a rendered page."""
    match = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "page has no CSRF token"
    return match.group(1)


def row_counts(*models) -> dict[str, int]:
    """How many rows each model's table has: to prove a refused request wrote nothing."""
    return {model.__tablename__: db.session.query(model).count() for model in models}
