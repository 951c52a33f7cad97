"""Demo data: a realistic warehouse to click through, loaded by `flask --app wsgi demo`.

Each stage of the flow owns one module here with a `load(session, rng, today)` function; they run
in flow order, each building on what the earlier ones made. Demo data goes through the same
domain functions the stations and the API call, inside the app (it signs label and case links
with the app's secret), so it lives outside the domain package.
"""

from __future__ import annotations

import datetime as dt
import random

from demo import base, grading, returns, routing
from warehouse import figures
from warehouse.db import utcnow

STAGES = (base, returns, grading, routing)


def load(session, *, seed: int = 20261125, today: dt.date | None = None) -> None:
    """Load every stage's demo data into `session` (flushes; the caller commits)."""
    rng = random.Random(seed)
    today = today or dt.datetime.now(dt.UTC).date()
    for stage in STAGES:
        stage.load(session, rng, today)
        session.flush()
    # The dashboards read monthly figures: build the past year's now rather than wait for the
    # worker's first refresh.
    figures.refresh_recent(session, now=utcnow(), months_back=12)
