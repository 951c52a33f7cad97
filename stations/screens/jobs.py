"""Supervisor's jobs panel: failed jobs (requeue, discard), queue depths, outbox, workers."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

from stations import nav
from stations.auth import current_actor, roles_required
from stations.extensions import job_queue, redis_client
from stations.params import page_number
from stations.worker import worker_states
from warehouse.db import db, utcnow
from warehouse.events import record
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.jobs import JOB_KINDS
from warehouse.models import Outbox, Role
from warehouse.relay import backlog, in_flight, queue_names, retry_policy

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
nav.register(
    _l("Jobs"),
    "jobs.index",
    {Role.SUPERVISOR},
    _l("Failed jobs, queues, workers and the outbox"),
    80,
)

FAILED_SHOWN = 1000  # read from each queue's failed registry, newest first
PAGE = 25


def _queues(connection) -> list[Queue]:
    return [job_queue(name, connection) for name in queue_names(current_app.config)]


def _describe(job: Job) -> dict:
    """What a supervisor needs to judge a failed job: kind, key, recipient, error."""
    kind, payload, key = [*(job.args or []), None, None, None][:3]
    payload = payload if isinstance(payload, dict) else {}
    result = job.latest_result()
    error = (result.exc_string if result is not None else "") or ""
    last_line = next((line for line in reversed(error.strip().splitlines()) if line.strip()), "")
    return {
        "id": job.id,
        "queue": job.origin,
        "kind": kind or job.func_name,
        "key": key or "",
        "to": payload.get("to", ""),
        "ended_at": job.ended_at,
        "error": last_line,
        "traceback": error,
    }


def _failed_jobs(queues: list[Queue]) -> list[dict]:
    jobs = []
    for queue in queues:
        ids = queue.failed_job_registry.get_job_ids(0, FAILED_SHOWN - 1)
        for job in Job.fetch_many(ids, connection=queue.connection):
            if job is not None:
                jobs.append(_describe(job))
    jobs.sort(key=lambda j: j["ended_at"] or utcnow(), reverse=True)
    return jobs


def _matching(jobs: list[dict], text: str) -> list[dict]:
    """The failed jobs whose kind, key, recipient or error mention `text` (any case)."""
    text = text.strip().lower()
    if not text:
        return jobs
    return [
        job
        for job in jobs
        if any(text in str(job[name]).lower() for name in ("kind", "key", "to", "error", "id"))
    ]


@bp.get("")
@roles_required(Role.SUPERVISOR)
def index():
    """The outbox, queues, workers and failed jobs (searchable, 25 a page)."""
    now = utcnow()
    outbox = backlog(db.session, now)
    running = in_flight(db.session)
    undeliverable = (
        db.session.query(Outbox)
        .filter(Outbox.dispatched_at.is_(None), Outbox.last_error.is_not(None))
        .order_by(Outbox.available_at)
        .limit(20)
        .all()
    )
    panel = {
        "redis_error": None,
        "queues": [],
        "failed": [],
        "failed_total": 0,
        "page": 1,
        "pages": 1,
        "workers": [],
    }
    try:
        connection = redis_client()
        queues = _queues(connection)
        panel["queues"] = [
            {
                "name": q.name,
                "queued": q.count,
                "running": q.started_job_registry.count,
                "scheduled": q.scheduled_job_registry.count,
                "failed": q.failed_job_registry.count,
                "finished": q.finished_job_registry.count,
            }
            for q in queues
        ]
        failed = _matching(_failed_jobs(queues), request.args.get("q", ""))
        page = page_number()
        panel["failed_total"] = len(failed)
        panel["failed"] = failed[(page - 1) * PAGE : page * PAGE]
        panel["page"], panel["pages"] = page, max(1, -(-len(failed) // PAGE))
        panel["workers"] = worker_states(connection, [q.name for q in queues])
    except RedisError as error:
        panel["redis_error"] = f"{type(error).__name__}: {error}"
    return render_template(
        "jobs/index.html",
        outbox=outbox,
        oldest_age=outbox.oldest_age_seconds(now),
        in_flight=running,
        in_flight_age=running.oldest_age_seconds(now),
        undeliverable=undeliverable,
        **panel,
    )


def _failed_job_or_404(job_id: str) -> tuple[Job, Queue]:
    """The failed job `job_id` of one of our queues (anything else is 404)."""
    connection = redis_client()
    for queue in _queues(connection):
        if job_id in queue.failed_job_registry.get_job_ids():
            try:
                return Job.fetch(job_id, connection=connection), queue
            except NoSuchJobError:
                break
    abort(404)


def _record(job: Job, kind: str, *, done: bool = False) -> None:
    """An event on the job's outbox row, so the history shows who requeued or discarded it; a
    discarded job's row counts as done (the relay must not hand it out again)."""
    row = db.session.query(Outbox).filter_by(job_id=job.id).one_or_none()
    if row is not None:
        record(db.session, current_actor("jobs"), kind, row, job_id=job.id, job_kind=row.kind)
        if done:
            row.done_at = utcnow()
            row.last_error = f"discarded by {current_user.email}"
        db.session.commit()


@bp.post("/<job_id>/requeue")
@roles_required(Role.SUPERVISOR)
def requeue(job_id: str):
    job, queue = _failed_job_or_404(job_id)
    kind = JOB_KINDS.get((job.args or [None])[0])
    # A requeued job gets its full backoff again, not just one last attempt.
    job.retries_left = retry_policy(current_app.config, kind.retries if kind else None).max
    job.save()
    queue.failed_job_registry.requeue(job)
    _record(job, "job.requeued")
    flash(_("Requeued %(kind)s %(id)s.", kind=_describe(job)["kind"], id=job.id), "ok")
    return redirect(url_for("jobs.index"), 303)


@bp.post("/<job_id>/discard")
@roles_required(Role.SUPERVISOR)
def discard(job_id: str):
    job, queue = _failed_job_or_404(job_id)
    queue.failed_job_registry.remove(job, delete_job=True)
    _record(job, "job.discarded", done=True)
    flash(
        _(
            "Discarded %(kind)s %(id)s; it will not run again.",
            kind=_describe(job)["kind"],
            id=job.id,
        ),
        "ok",
    )
    return redirect(url_for("jobs.index"), 303)


@bp.errorhandler(RedisError)
def redis_unreachable(error):
    flash(
        _("Redis is unreachable (%(error)s); nothing was changed.", error=type(error).__name__),
        "error",
    )
    return redirect(url_for("jobs.index"), 303)
