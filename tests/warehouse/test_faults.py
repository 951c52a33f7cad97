"""No message lost under any fault (issue 11): Redis losing its data after the relay dispatched,
a worker SIGKILLed mid-job, Redis going away while a job runs. Real Redis, real SMTP sink, real
worker processes on loopback; each test bounded in time; every expected mail counted in the
sink, exactly once.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq.scheduler import RQScheduler

from stations import ROOT
from tests.helpers import drain, relay
from warehouse.db import db, utcnow
from warehouse.mail import message_id_for, queue_mail
from warehouse.models import Outbox, SentMail
from warehouse.relay import relay_pass

pytestmark = [pytest.mark.commits, pytest.mark.slow]

# The process faults (a killed worker, Redis gone mid-job) are Redis's and the worker's, not the
# database's: they run once, on PostgreSQL (what several workers share in production). The
# outbox's lease and acknowledgement tests above them run on both databases.
ONE_DATABASE = pytest.mark.parametrize("backend", ["postgresql"])


@pytest.fixture(autouse=True)
def _no_periodic_tasks(monkeypatch):
    """Other stages' periodic tasks would add their rows to every relay pass."""
    monkeypatch.setattr("warehouse.relay.PERIODIC", {})


def _queue(*names: str) -> list[str]:
    keys = []
    for name in names:
        queue_mail(
            db.session,
            template="test_mail",
            to=f"{name}@example.org",
            language="en",
            context={"requested_by": "Fault test", "requested_at": "2026-12-01 10:00"},
            key=f"fault:{name}",
        )
        keys.append(f"mail:fault:{name}")
    db.session.commit()
    return keys


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.1)


def _delivered(sink) -> list[str]:
    return sorted(mail.message_id for mail in sink.received)


def _expected(app, keys) -> list[str]:
    return sorted(message_id_for(key, app.config["MAIL_FROM"]) for key in keys)


def _all_done() -> bool:
    db.session.expire_all()
    return db.session.query(Outbox).filter(Outbox.done_at.is_(None)).count() == 0


@pytest.mark.parametrize("with_data", [True, False], ids=["restart-with-data", "data-lost"])
def test_redis_restarted_after_the_relay_dispatched_loses_no_mail(
    app, jobs, mail_sink, redis_server, with_data
):
    keys = _queue("anna", "bram", "carla")
    assert len(relay(app, jobs).dispatched) == 3
    # Redis goes away before any worker ran the jobs: saved (a restart) or not (a failover,
    # an evicting Redis, SHUTDOWN NOSAVE).
    redis_server.restart(keep_data=with_data)
    after_lease = utcnow() + dt.timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"] + 1)
    report = relay_pass(db.session, jobs, app.config, now=after_lease)
    db.session.commit()
    # Jobs Redis kept only renew their lease; jobs it lost are handed out again.
    assert sorted(report.redispatched) == ([] if with_data else sorted(keys))
    drain(app, jobs)
    assert _delivered(mail_sink) == _expected(app, keys)
    assert db.session.query(SentMail).count() == 3
    assert _all_done()
    if with_data:  # leave no snapshot for later tests to load
        redis_server.restart(keep_data=False)
    later = after_lease + dt.timedelta(hours=1)
    assert relay_pass(db.session, jobs, app.config, now=later).redispatched == []


def test_a_mail_sent_and_done_is_not_sent_again_when_redis_loses_its_data(
    app, jobs, mail_sink, redis_server
):
    keys = _queue("dirk")
    relay(app, jobs)
    drain(app, jobs)
    assert _all_done()
    redis_server.restart(keep_data=False)
    after_lease = utcnow() + dt.timedelta(seconds=app.config["OUTBOX_LEASE_SECONDS"] + 1)
    assert relay_pass(db.session, jobs, app.config, now=after_lease).redispatched == []
    drain(app, jobs)
    assert _delivered(mail_sink) == _expected(app, keys)


class Worker:
    """`flask --app wsgi worker` as its own process (own session), against the test database."""

    def __init__(self, app, redis_server, mail_sink, tmp_path: Path, name: str) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": redis_server.url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(mail_sink.port),
            "SMTP_TIMEOUT": "10",
            "JOB_RETRY_INTERVALS": "1,1,1",
            "RETURNYARD_INSTANCE": str(tmp_path / "instance"),
            "SECRET_KEY": app.config["SECRET_KEY"],
        }
        self.log_path = tmp_path / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--class", "fork"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def children(self) -> list[int]:
        """Processes whose parent is this worker (its scheduler, a work horse)."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                fields = stat.rpartition(")")[2].split()
                if int(fields[1]) == self.pid and fields[0] != "Z":
                    found.append(int(entry.name))
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(5)
        self._log.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@ONE_DATABASE
def test_a_killed_worker_takes_its_scheduler_with_it_and_the_next_one_schedules_at_once(
    app, jobs, mail_sink, redis_server, tmp_path
):
    from stations.worker import recover_abandoned_jobs
    from warehouse.relay import queue_names

    mail_sink.handler.rcpt_delay = 30  # the first send hangs inside SMTP
    keys = _queue("erik")
    relay(app, jobs)
    lock = RQScheduler.get_locking_key(queue_names(app.config)[0])
    first = Worker(app, redis_server, mail_sink, tmp_path, "first")
    second = None
    try:
        _wait(lambda: mail_sink.handler.rcpt_seen.is_set(), 30, "the send to start")
        _wait(lambda: jobs.get(lock) is not None, 10, "the scheduler to take its lock")
        old_owner = jobs.get(lock)
        children = first.children()
        assert len(children) >= 2, (children, first.log_path.read_text())  # scheduler + horse
        os.kill(first.pid, signal.SIGKILL)  # the worker alone, as the OOM killer would
        first.process.wait(10)
        _wait(lambda: not any(_alive(pid) for pid in children), 5, "its children to die with it")
        assert mail_sink.received == []

        mail_sink.handler.rcpt_delay = 0
        second = Worker(app, redis_server, mail_sink, tmp_path, "second")
        # The new worker's scheduler takes over at once (not after rq's lock expiry).
        _wait(lambda: jobs.get(lock) not in (None, old_owner), 15, "the new scheduler")
        recover_abandoned_jobs(jobs, queue_names(app.config))  # the relay does this every 10 s
        _wait(lambda: len(mail_sink.received) >= 1, 30, "the mail")
        _wait(_all_done, 10, "the outbox row to be done")
    finally:
        first.stop()
        if second is not None:
            second.stop()
    assert _delivered(mail_sink) == _expected(app, keys)


@ONE_DATABASE
def test_a_worker_outlives_redis_going_away_mid_job(app, jobs, mail_sink, redis_server, tmp_path):
    mail_sink.handler.rcpt_delay = 3  # the send is in progress when Redis goes
    keys = _queue("fenna")
    relay(app, jobs)
    worker = Worker(app, redis_server, mail_sink, tmp_path, "worker")
    try:
        _wait(lambda: mail_sink.handler.rcpt_seen.is_set(), 30, "the send to start")
        redis_server.stop()
        _wait(lambda: len(mail_sink.received) == 1, 15, "the first mail")
        _wait(_all_done, 10, "the first job's work to commit")  # the database needs no Redis
        time.sleep(3)  # the worker meets the outage in its bookkeeping
        assert worker.process.poll() is None, worker.log_path.read_text()
        redis_server.start()  # back, without its data
        mail_sink.handler.rcpt_delay = 0
        keys += _queue("gerrit")
        relay(app, jobs)
        _wait(lambda: len(mail_sink.received) == 2, 45, "the mail queued after the outage")
        assert worker.process.poll() is None
    finally:
        worker.stop()
    assert _delivered(mail_sink) == _expected(app, keys)
