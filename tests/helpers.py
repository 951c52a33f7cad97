"""Action helpers for tests: log in, scan, read row counts, read the text of a PDF."""

from __future__ import annotations

import re
import time

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


def relay(app, connection):
    """One relay pass, committed, as the `flask relay` process does it."""
    from warehouse.relay import relay_pass

    report = relay_pass(db.session, connection, app.config)
    db.session.commit()
    return report


def drain(app, connection, *, until=None, timeout: float = 30.0) -> None:
    """Run real RQ workers (SimpleWorker, in this process, with rq's scheduler) in bursts.

    Stops when `until()` is true, or when no job is queued, scheduled or running (if no `until`).
    Retries with backoff wait in rq's scheduled registry; each burst starts the scheduler, which
    moves the due ones back to their queue.
    """
    import time

    from rq import Queue, SimpleWorker

    from warehouse.relay import queue_names

    names = queue_names(app.config)
    deadline = time.monotonic() + timeout
    while True:
        # Its own app context, like a worker process: the jobs get their own database session.
        with app.app_context():
            SimpleWorker(names, connection=connection).work(
                burst=True, with_scheduler=True, logging_level="WARNING"
            )
        queues = [Queue(name, connection=connection) for name in names]
        if until is not None:
            if until():
                return
        elif not any(q.count or q.scheduled_job_registry.count for q in queues):
            return
        assert time.monotonic() < deadline, "background work did not finish in time"
        time.sleep(0.2)


def pdf_text(pdf: bytes, *, joiner: str = "\n") -> str:
    """The text of every page of a PDF (pdfium's extraction), pages joined by `joiner`."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        return joiner.join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


# The reference loop's best time on this machine kind when quiet. On 2026-12-02 it read 0.052 s
# while bare Flask served 2.4 x fewer requests a second than on its usual days (docs/benchmarks.md).
QUIET_REFERENCE_SECONDS = 0.022


def machine_slowness() -> float:
    """How many times slower than when quiet this machine runs plain Python now (never below 1):
    a wall-clock bound set on the quiet machine is multiplied by it, so a shared, slowed machine
    does not fail a test that a regression of the code itself still fails."""

    def once() -> float:
        started = time.perf_counter()
        sum(range(2_000_000))
        return time.perf_counter() - started

    return max(1.0, min(once() for _ in range(7)) / QUIET_REFERENCE_SECONDS)
