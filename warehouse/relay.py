"""The relay: moves due outbox rows to their RQ queues and stamps them dispatched.

One pass (`relay_pass`) claims up to `limit` rows that are due (``dispatched_at IS NULL`` and
``available_at <= now``), puts one RQ job per row on the kind's queue and stamps the rows in the
same database transaction that claimed them. The caller commits.

- **Concurrency.** On PostgreSQL the claim is ``SELECT … FOR UPDATE SKIP LOCKED``: several relays
  may run and never take the same row. SQLite has no row locks (the clause is dropped), so on
  SQLite run exactly one relay (`make run` starts one).
- **No second live job.** The RQ job id is derived from the row's idempotency key and the job is
  enqueued with ``unique=True``. If a relay enqueued a job but died before its commit, the next
  pass finds the id taken, treats the row as dispatched, and no second job appears. (A job whose
  record has expired from Redis could be enqueued again; every job kind is idempotent on its key,
  e.g. `SentMail` for mail, so that costs a no-op run.)
- **Redis down.** The pass stops at the first Redis error, notes it on the row (`attempts`,
  `last_error`) and leaves every row undispatched; the next pass tries again. Nothing is lost.
- **Redis lost the job.** A job acknowledges its row (`done_at`) in the transaction of its own
  work. A row dispatched and not done once its lease (`OUTBOX_LEASE_SECONDS`) has run out is
  offered to RQ again: if the job still exists in Redis (queued, running, waiting for a retry,
  failed), RQ says it is a duplicate and the lease is renewed; if Redis lost it (a restart
  without its data, a failover, eviction), it is enqueued again. Every job kind is idempotent on
  its key (`SentMail` for mail), so a second run of a job that did its work is a no-op.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy.orm import Session

from warehouse.db import utcnow
from warehouse.jobs import JOB_KINDS, PERIODIC, load_job_modules
from warehouse.models import Outbox
from warehouse.outbox import enqueue

# The function every RQ job calls: it builds the app context and runs the job kind.
ENTRY_POINT = "stations.worker.run_job"


@dataclass
class RelayReport:
    """What one pass did."""

    dispatched: list[str] = field(default_factory=list)
    redispatched: list[str] = field(default_factory=list)
    periodic: list[str] = field(default_factory=list)
    error: str | None = None


def job_id_for(idempotency_key: str) -> str:
    """The RQ job id of an outbox row: stable for a key, and only letters, digits and _."""
    return "ob_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


def queue_name(settings: Mapping[str, Any], queue: str) -> str:
    """The Redis queue name of `queue`, with this installation's RQ_QUEUE_PREFIX."""
    return f"{settings['RQ_QUEUE_PREFIX']}{queue}"


def queue_names(settings: Mapping[str, Any]) -> list[str]:
    """Every queue some registered job kind uses, mail first (it is what people wait for)."""
    load_job_modules()
    names = sorted({kind.queue for kind in JOB_KINDS.values()}, key=lambda q: (q != "mail", q))
    return [queue_name(settings, name) for name in names]


def retry_policy(settings: Mapping[str, Any], retries: int | None = None) -> Retry:
    """Rq's Retry with the backoff of the JOB_RETRY_INTERVALS setting (seconds)."""
    intervals = [int(s) for s in settings["JOB_RETRY_INTERVALS"]]
    return Retry(max=retries or len(intervals), interval=intervals)


def schedule_periodic(session: Session, now: dt.datetime) -> list[str]:
    """Add one outbox row per periodic task whose current time slot has none yet."""
    added = []
    for task in PERIODIC.values():
        slot = task.slot(now)
        key = f"periodic:{task.name}:{slot.isoformat()}"
        if session.scalar(sa.select(Outbox.id).where(Outbox.idempotency_key == key)):
            continue
        try:
            # A savepoint: a second relay inserting the same slot must not undo this pass.
            with session.begin_nested():
                payload = {**task.payload, "slot": slot.isoformat()}
                enqueue(session, task.kind, payload, key, available_at=now)
                session.flush()
        except sa.exc.IntegrityError:
            continue
        added.append(key)
    return added


def relay_pass(
    session: Session,
    connection: Redis,
    settings: Mapping[str, Any],
    *,
    now: dt.datetime | None = None,
    limit: int = 200,
) -> RelayReport:
    """Dispatch the due outbox rows to RQ; flush, and leave the commit to the caller."""
    load_job_modules()
    now = now or utcnow()
    report = RelayReport(periodic=schedule_periodic(session, now))
    due = session.scalars(
        sa.select(Outbox)
        .where(Outbox.dispatched_at.is_(None), Outbox.available_at <= now)
        .order_by(Outbox.available_at, Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    lease = dt.timedelta(seconds=int(settings["OUTBOX_LEASE_SECONDS"]))
    expired = session.scalars(
        sa.select(Outbox)
        .where(Outbox.done_at.is_(None), Outbox.dispatched_at <= now - lease)
        .order_by(Outbox.dispatched_at, Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for row in [*due, *expired]:
        again = row.dispatched_at is not None
        kind = JOB_KINDS.get(row.kind)
        if kind is None:
            row.attempts += 1
            row.last_error = f"no job kind {row.kind!r} is registered; the row waits for one"
            continue
        job_id = job_id_for(row.idempotency_key)
        queue = Queue(queue_name(settings, kind.queue), connection=connection)
        try:
            queue.enqueue(
                ENTRY_POINT,
                row.kind,
                row.payload,
                row.idempotency_key,
                job_id=job_id,
                unique=True,
                job_timeout=kind.timeout,
                retry=retry_policy(settings, kind.retries),
                result_ttl=settings["JOB_RESULT_TTL"],
                failure_ttl=settings["JOB_FAILURE_TTL"],
                description=f"{row.kind} {row.idempotency_key}",
            )
        except DuplicateJobError:
            # The job lives in Redis (a previous pass enqueued it and lost its commit, or it
            # is queued, running or waiting for a retry): keep it, renew the lease.
            row.dispatched_at = now
            if not again:
                row.attempts += 1
                row.job_id = job_id
                report.dispatched.append(row.idempotency_key)
            continue
        except RedisError as error:
            row.attempts += 1
            row.last_error = f"Redis: {type(error).__name__}: {error}"[:2000]
            report.error = row.last_error
            break
        row.attempts += 1
        row.dispatched_at = now
        row.job_id = job_id
        if again:
            row.last_error = "dispatched again: its job was gone from Redis before it was done"
            report.redispatched.append(row.idempotency_key)
        else:
            row.last_error = None
            report.dispatched.append(row.idempotency_key)
    session.flush()
    return report


@dataclass(frozen=True)
class Backlog:
    """Outbox rows that wait: due and not yet on a queue, or on a queue and not yet done."""

    count: int
    oldest: dt.datetime | None

    def oldest_age_seconds(self, now: dt.datetime) -> int | None:
        """Seconds the oldest waiting row has waited at `now` (None when none waits)."""
        return None if self.oldest is None else max(0, int((now - self.oldest).total_seconds()))


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


def backlog(session: Session, now: dt.datetime | None = None) -> Backlog:
    """How many due rows wait for the relay, and since when."""
    now = now or utcnow()
    count, oldest = session.execute(
        sa.select(sa.func.count(Outbox.id), sa.func.min(Outbox.available_at)).where(
            Outbox.dispatched_at.is_(None), Outbox.available_at <= now
        )
    ).one()
    return Backlog(count, _aware(oldest))


def in_flight(session: Session) -> Backlog:
    """How many rows are on a queue and not done yet, and since when the oldest was dispatched
    (a row waiting for a retry, or one whose job Redis may have lost)."""
    count, oldest = session.execute(
        sa.select(sa.func.count(Outbox.id), sa.func.min(Outbox.dispatched_at)).where(
            Outbox.dispatched_at.is_not(None), Outbox.done_at.is_(None)
        )
    ).one()
    return Backlog(count, _aware(oldest))


def mark_done(session: Session, idempotency_key: str, now: dt.datetime) -> None:
    """Acknowledge a row: its job did its work (called in the job's own transaction)."""
    session.execute(
        sa.update(Outbox)
        .where(Outbox.idempotency_key == idempotency_key, Outbox.done_at.is_(None))
        .values(done_at=now)
    )
