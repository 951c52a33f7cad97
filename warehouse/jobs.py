"""Background job kinds: what an outbox row of each kind does when a worker runs it.

A stage adds its own kind in its own module::

    from warehouse.jobs import job_kind

    @job_kind("build_export", queue="exports", timeout=600)
    def build_export(job: JobContext, payload: dict) -> str: ...

and causes it only through `warehouse.outbox.enqueue(session, "build_export", {...}, key)` in
the transaction of the state change. The relay (`warehouse.relay`) moves the row to the kind's
RQ queue; an RQ worker calls `stations.worker.run_job`, which opens a database session,
calls the kind and commits once. Every module of the `warehouse` package is imported by the
worker and the relay (`load_job_modules`), so registering in a stage module at import time is
enough.

Periodic work (refund-due alerts, escalation of unanswered consult cases) registers with
`periodic(name, every=...)`: the relay turns each due time slot into one outbox row, so a slot
runs once even across relay restarts, and it then runs like any other job (retries, failures).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"


@dataclass(frozen=True)
class JobContext:
    """What a job kind gets besides its payload: the session, the settings and its key."""

    session: Session
    settings: Mapping[str, Any]
    idempotency_key: str
    now: dt.datetime


@dataclass(frozen=True)
class JobKind:
    """A registered job kind: the function and how RQ should run it."""

    name: str
    func: Callable[[JobContext, dict[str, Any]], Any]
    queue: str = DEFAULT_QUEUE
    timeout: int = 120
    retries: int | None = None  # None: the JOB_RETRY_INTERVALS setting decides


JOB_KINDS: dict[str, JobKind] = {}


def job_kind(name: str, *, queue: str = DEFAULT_QUEUE, timeout: int = 120, retries=None):
    """Register the decorated `func(job, payload)` as the job kind `name`."""

    def decorator(func):
        JOB_KINDS[name] = JobKind(name, func, queue=queue, timeout=timeout, retries=retries)
        return func

    return decorator


@dataclass(frozen=True)
class PeriodicTask:
    """A job kind the relay enqueues once per `every`, with the slot start in its payload."""

    name: str
    every: dt.timedelta
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)

    def slot(self, now: dt.datetime) -> dt.datetime:
        """The start of the time slot `now` falls into (slots count from the Unix epoch)."""
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        seconds = int(self.every.total_seconds())
        elapsed = int((now - epoch).total_seconds())
        return epoch + dt.timedelta(seconds=elapsed - elapsed % seconds)


PERIODIC: dict[str, PeriodicTask] = {}


def periodic(name: str, *, every: dt.timedelta, queue: str = DEFAULT_QUEUE, timeout: int = 300):
    """Register the decorated `func(job, payload)` as a job kind run once every `every`.

    The payload holds ``slot`` (ISO start of the slot). Example hook points for later stages:
    ``refund_due_alerts`` (hourly) and ``escalate_consult_cases`` (hourly).
    """
    if every < dt.timedelta(seconds=1):
        raise ValueError("a periodic task runs at most once a second")

    def decorator(func):
        job_kind(name, queue=queue, timeout=timeout)(func)
        PERIODIC[name] = PeriodicTask(name, every, name)
        return func

    return decorator


def load_job_modules() -> None:
    """Import every module of the `warehouse` package so each registers its job kinds."""
    import warehouse

    for module in pkgutil.walk_packages(warehouse.__path__, "warehouse."):
        importlib.import_module(module.name)


class UnknownJobKind(LookupError):
    """An outbox row or RQ job names a kind no module registered."""


def run(kind: str, job: JobContext, payload: dict[str, Any]) -> Any:
    """Run the registered job `kind` (the worker's entry point commits around this)."""
    found = JOB_KINDS.get(kind)
    if found is None:
        raise UnknownJobKind(f"no job kind {kind!r} is registered")
    return found.func(job, payload)
