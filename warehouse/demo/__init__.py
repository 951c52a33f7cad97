"""Demo data: a realistic warehouse to click through, loaded by `flask --app wsgi demo`.

Each stage of the flow owns one module here with a `load(session, rng, today)` function; they run
in flow order, each building on what the earlier ones made. A stage module that does not exist
yet is skipped.
"""

from __future__ import annotations

import importlib
import random

STAGES = ("base", "returns", "grading", "routing")


def load(session, *, seed: int = 20261125, today=None) -> None:
    """Load every stage's demo data into `session` (flushes; the caller commits)."""
    import datetime as dt

    rng = random.Random(seed)
    today = today or dt.datetime.now(dt.UTC).date()
    for name in STAGES:
        try:
            module = importlib.import_module(f"warehouse.demo.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"warehouse.demo.{name}":
                raise
            continue
        module.load(session, rng, today)
        session.flush()
