"""The background side: the function every RQ job runs, the worker and the relay loops, the
workers' states, and recovery of jobs whose worker died.

The commands that start these (`flask --app wsgi worker`, `relay`) are in `stations.cli.background`.
Jobs run `run_job` below inside an app built by `create_app`.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError

from stations.extensions import redis_client
from warehouse.db import db, utcnow
from warehouse.jobs import JobContext, load_job_modules, run
from warehouse.relay import mark_done, queue_names, relay_pass

log = logging.getLogger("returnyard.background")
RECOVERY_INTERVAL = 10.0  # seconds between looks for jobs of dead workers
RESTART_BACKOFF = (1.0, 30.0)  # first and longest wait before a new worker after an error
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WORKER_CLASSES = {"fork": "rq.worker.Worker", "simple": "rq.worker.SimpleWorker"}


def run_job(kind: str, payload: dict[str, Any], idempotency_key: str) -> Any:
    """The function every RQ job calls: run job `kind` in a fresh session and commit once.

    It runs inside the app of the process that started the worker (`flask --app wsgi worker`,
    whose forked work horses inherit the app context).
    """
    if not has_app_context():
        raise RuntimeError(
            "Returnyard jobs run inside the app: start workers with `flask --app wsgi worker`"
        )
    load_job_modules()
    session = db.session
    try:
        now = utcnow()
        result = run(kind, JobContext(session, current_app.config, idempotency_key, now), payload)
        # The acknowledgement is part of the job's own transaction: done exactly when its work
        # is committed (until then the relay may hand the job out again after the lease).
        mark_done(session, idempotency_key, utcnow())
        session.commit()
        return result
    except BaseException:
        session.rollback()
        raise
    finally:
        db.session.remove()


def worker_class(name: str):
    """rq's forking Worker ('fork') or its SimpleWorker ('simple')."""
    from rq.utils import import_attribute

    return import_attribute(WORKER_CLASSES[name])


def run_worker(*, burst: bool = False, class_name: str | None = None, name: str | None = None):
    """An RQ worker with its scheduler on every job queue (retries only fire where one runs),
    kept alive through Redis outages.

    rq's worker waits out an outage while it is idle, but quits when Redis fails under a job's
    bookkeeping or a heartbeat; then a new worker is started here, after a backoff. Its forked
    children (the scheduler, each job's work horse) die with it (`die_with_parent`), so a killed
    worker leaves no scheduler behind holding the lock, and a new worker takes over the dead
    one's scheduler lock at once instead of after rq's lock expiry.
    """
    config = current_app.config
    names = queue_names(config)
    klass = worker_class(class_name or config["RQ_WORKER_CLASS"])
    die_with_parent()
    backoff = RESTART_BACKOFF[0]
    while True:
        started = time.monotonic()
        worker = None
        try:
            connection = redis_client()
            _release_dead_scheduler_locks(connection, names, socket.gethostname())
            worker = klass(
                names,
                connection=connection,
                name=name,
                maintenance_interval=int(config["RQ_MAINTENANCE_INTERVAL"]),
            )
            log.info("%s on %s at %s", klass.__name__, ", ".join(names), config["REDIS_URL"])
            worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
        except RedisError as error:
            log.warning("worker: Redis unreachable (%s)", error)
        if burst or (worker is not None and getattr(worker, "_stop_requested", False)):
            return
        if time.monotonic() - started > 60:
            backoff = RESTART_BACKOFF[0]
        log.warning("worker: stopped without being asked to; a new one starts in %.0f s", backoff)
        time.sleep(backoff)
        backoff = min(backoff * 2, RESTART_BACKOFF[1])
        name = None  # the next worker registers under a name of its own


_PARENT_PID: int | None = None


def die_with_parent() -> None:
    """Make every child this process forks from now on (rq's scheduler, its work horses) get
    SIGKILL when this process dies, even by SIGKILL (Linux's parent-death signal)."""
    global _PARENT_PID
    if _PARENT_PID is not None or not sys.platform.startswith("linux"):
        return
    _PARENT_PID = os.getpid()
    os.register_at_fork(after_in_child=_child_dies_with_parent)


def _child_dies_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != _PARENT_PID:  # the parent died before the signal was armed
        os._exit(1)


def _process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process whose parent died too may linger as a zombie until init reaps it
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def recover_abandoned_jobs(connection: Redis, names: list[str]) -> list[str]:
    """Give jobs of dead workers on this host back to rq's retry logic at once.

    rq itself treats a started job as abandoned only when its heartbeat expires (the job
    timeout or 30 s, plus 60 s) and a worker's maintenance runs. A worker killed on this machine
    (SIGKILL, OOM, power to the container) is found sooner here: its pid is gone. Its entries
    in the started registry are marked expired and rq's own cleanup then retries each job (or
    fails it when no retries are left). Workers on other hosts are left to rq's heartbeat.
    """
    from rq import Worker
    from rq.executions import Execution
    from rq.registry import StartedJobRegistry

    host = socket.gethostname()
    recovered = []
    for name in names:
        registry = StartedJobRegistry(name, connection=connection)
        expired = {}
        for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False):
            try:
                execution = Execution.fetch(execution_id, job_id, connection)
            except ValueError:
                continue  # the execution record is gone: rq's heartbeat expiry handles it
            worker = Worker.find_by_key(
                Worker.redis_worker_namespace_prefix + execution.worker_name, connection
            )
            if worker is None or (worker.hostname == host and not _process_alive(worker.pid)):
                expired[f"{job_id}:{execution_id}"] = 0
                recovered.append(job_id)
        if expired:
            connection.zadd(registry.key, expired, xx=True)
            registry.cleanup()
    for job_id in recovered:
        log.warning("job %s lost its worker; handed back to rq's retry", job_id)
    _release_dead_scheduler_locks(connection, names, host)
    return recovered


def _release_dead_scheduler_locks(connection: Redis, names: list[str], host: str) -> None:
    """Free the scheduler lock of a dead local worker, so retries fire without waiting ~60 s."""
    from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
    from rq.scripts import release_lock

    for name in names:
        key = RQScheduler.get_locking_key(name)
        owner = connection.get(key)
        if not owner:
            continue
        owner = owner.decode()
        data = {
            k.decode(): v.decode()
            for k, v in connection.hgetall(SCHEDULER_KEY_TEMPLATE % owner).items()
        }
        if data.get("hostname") == host and not _process_alive(int(data.get("pid") or 0)):
            release_lock(connection, key, owner)
            log.warning("released the scheduler lock of dead scheduler %s on %s", owner, name)


def relay_once(connection: Redis, limit: int = 200) -> int:
    """One relay pass in its own transaction; returns how many rows went to RQ."""
    try:
        report = relay_pass(db.session, connection, current_app.config, limit=limit)
        db.session.commit()
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        log.exception("relay pass failed on the database; trying again")
        return 0
    finally:
        db.session.remove()
    if report.error:
        log.warning("relay: Redis unavailable, rows stay in the outbox: %s", report.error)
    if report.dispatched:
        log.info("relay: dispatched %d: %s", len(report.dispatched), ", ".join(report.dispatched))
    if report.redispatched:
        log.warning(
            "relay: %d job(s) were gone from Redis before they were done, dispatched again: %s",
            len(report.redispatched),
            ", ".join(report.redispatched),
        )
    return len(report.dispatched) + len(report.redispatched)


def run_relay(*, once: bool = False, interval: float | None = None) -> int:
    """Move due outbox rows to RQ until stopped (or one pass with `once`); returns the last count.

    Every RECOVERY_INTERVAL seconds it also hands jobs of dead local workers back to rq.
    """
    interval = interval or float(current_app.config["RELAY_INTERVAL"])
    connection = redis_client()
    names = queue_names(current_app.config)
    log.info("relay every %ss to %s", interval, current_app.config["REDIS_URL"])
    last_recovery = 0.0
    while True:
        moved = relay_once(connection)
        if time.monotonic() - last_recovery > RECOVERY_INTERVAL:
            last_recovery = time.monotonic()
            try:
                recover_abandoned_jobs(connection, names)
            except RedisError as error:
                log.warning("relay: cannot look for abandoned jobs: %s", error)
        if once:
            return moved
        if moved == 0:
            time.sleep(interval)


def worker_states(connection: Redis, names: list[str]) -> list[dict[str, Any]]:
    """The RQ workers listening on any of `names`: state, heartbeat and whether they live."""
    from rq import Worker

    host = socket.gethostname()
    now = utcnow()
    states = []
    for worker in Worker.all(connection=connection):
        if not set(worker.queue_names()) & set(names):
            continue
        heartbeat = worker.last_heartbeat
        if heartbeat is not None and heartbeat.tzinfo is None:
            heartbeat = heartbeat.replace(tzinfo=dt.UTC)
        dead_here = worker.hostname == host and not _process_alive(worker.pid)
        states.append(
            {
                "name": worker.name,
                "host": worker.hostname,
                "pid": worker.pid,
                "state": "dead" if dead_here else worker.get_state(),
                "alive": not dead_here,
                "queues": worker.queue_names(),
                "heartbeat_age": None
                if heartbeat is None
                else max(0, int((now - heartbeat).total_seconds())),
                "current_job": worker.get_current_job_id(),
                "successful": worker.successful_job_count,
                "failed": worker.failed_job_count,
            }
        )
    return sorted(states, key=lambda s: s["name"])
