"""Outbox → relay → RQ → SMTP, against real Redis, real RQ workers and a real SMTP sink.

Each "Done when" point of issue 3 is a test here; they run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time

import pytest
from rq import Queue
from rq.job import Job, JobStatus

from tests import factories
from tests.helpers import drain, relay, row_counts
from tests.servers import free_port
from warehouse.db import db
from warehouse.events import Actor
from warehouse.mail import message_id_for, queue_mail, request_test_mail
from warehouse.models import Event, Outbox, Role, SentMail
from warehouse.relay import job_id_for, relay_pass


@pytest.fixture(autouse=True)
def _no_periodic_tasks(monkeypatch):
    """Other stages' periodic tasks (escalations, ...) would add their rows to every relay pass."""
    monkeypatch.setattr("warehouse.relay.PERIODIC", {})


def _queue_three_mails():
    for n in range(3):
        queue_mail(
            db.session,
            template="test_mail",
            to=f"customer{n}@example.org",
            language=["en", "nl", "de"][n],
            context={"requested_by": "Test", "requested_at": "2026-01-01 10:00"},
            key=f"test-three:{n}",
        )


def _message_ids(sink) -> list[str]:
    return sorted(mail.message_id for mail in sink.received)


def test_a_mail_leaves_once_as_text_and_html_with_a_stable_message_id(app, jobs, mail_sink):
    supervisor = factories.user(Role.SUPERVISOR)
    row = request_test_mail(
        db.session,
        Actor(label="sup", user_id=supervisor.id),
        to="partner@example.com",
        language="fr",
    )
    key = row.idempotency_key
    db.session.commit()

    report = relay(app, jobs)
    assert report.dispatched == [key]
    drain(app, jobs)

    assert len(mail_sink.received) == 1
    parsed = email.message_from_bytes(
        mail_sink.received[0].path.read_bytes(), policy=email.policy.default
    )
    assert parsed["Message-ID"] == message_id_for(key, app.config["MAIL_FROM"])
    assert parsed["Subject"] == "Message de test de Returnyard"
    assert parsed["To"] == "partner@example.com"
    assert parsed.get_content_type() == "multipart/alternative"
    assert "Bonjour" in parsed.get_body(("plain",)).get_content()
    assert "<p>Bonjour,</p>" in parsed.get_body(("html",)).get_content()
    sent = db.session.query(SentMail).one()
    assert (sent.idempotency_key, sent.recipient, sent.language) == (
        key,
        "partner@example.com",
        "fr",
    )
    assert "Bonjour" in sent.body_text

    # The relay runs again over the same row (its commit was lost, say): the job id is taken,
    # so no second job appears; and the job itself run again finds the sent-log and stops.
    outbox = db.session.query(Outbox).one()
    outbox.dispatched_at = None
    db.session.commit()
    assert relay(app, jobs).dispatched == [key]
    assert Queue("mail", connection=jobs).count == 0
    from stations.worker import run_job

    assert run_job("send_email", outbox.payload, key).startswith("already sent")
    drain(app, jobs)
    assert len(mail_sink.received) == 1


def test_a_rolled_back_transaction_leaves_no_outbox_row_and_sends_nothing(app, jobs, mail_sink):
    before = row_counts(Outbox, SentMail)
    _queue_three_mails()
    db.session.flush()
    db.session.rollback()
    assert row_counts(Outbox, SentMail) == before == {"outbox": 0, "sent_mail": 0}
    assert relay(app, jobs).dispatched == []
    drain(app, jobs)
    assert mail_sink.received == []


def test_with_redis_down_the_change_commits_and_every_mail_arrives_once_later(
    app, jobs, mail_sink, redis_server
):
    redis_server.stop()
    try:
        _queue_three_mails()
        db.session.commit()  # the state change does not touch Redis at all
        report = relay(app, jobs)
        assert report.dispatched == []
        assert report.error
        assert "Redis" in report.error
        rows = db.session.query(Outbox).order_by(Outbox.id).all()
        assert [r.dispatched_at for r in rows] == [None, None, None]
        assert rows[0].attempts == 1
        assert rows[0].last_error.startswith("Redis")
        # still down: the next pass fails the same way and loses nothing
        assert relay(app, jobs).dispatched == []
    finally:
        redis_server.start()

    assert len(relay(app, jobs).dispatched) == 3
    drain(app, jobs)
    keys = [f"mail:test-three:{n}" for n in range(3)]
    assert _message_ids(mail_sink) == sorted(
        message_id_for(k, app.config["MAIL_FROM"]) for k in keys
    )
    assert db.session.query(SentMail).count() == 3
    assert relay(app, jobs).dispatched == []


def test_smtp_down_retries_with_backoff_fails_and_a_requeue_delivers_once(app, jobs, tmp_path):
    from tests.conftest import SinkServer

    port = free_port()  # nothing listens here yet
    app.config.update(SMTP_PORT=port)
    queue_mail(
        db.session,
        template="test_mail",
        to="a@example.org",
        language="en",
        context={"requested_by": "T", "requested_at": "x"},
        key="smtp-down",
    )
    db.session.commit()
    relay(app, jobs)
    job_id = job_id_for("mail:smtp-down")
    queue = Queue("mail", connection=jobs)
    # The first attempt fails and the job waits out its backoff in rq's scheduled registry.
    drain(app, jobs, until=lambda: True)
    job = Job.fetch(job_id, connection=jobs)
    assert job.get_status() == JobStatus.SCHEDULED
    assert job_id in queue.scheduled_job_registry.get_job_ids()
    assert queue.count == 0
    drain(app, jobs, until=lambda: job_id in queue.failed_job_registry.get_job_ids())

    job = Job.fetch(job_id, connection=jobs)
    assert job.get_status() == JobStatus.FAILED
    assert job.retries_left == 0
    assert "ConnectionRefusedError" in (job.latest_result().exc_string or "")
    assert db.session.query(SentMail).count() == 0

    sink = SinkServer(tmp_path / "late-mail", port).start()
    try:
        queue.failed_job_registry.requeue(job_id)
        drain(app, jobs)
        assert [m.message_id for m in sink.received] == [
            message_id_for("mail:smtp-down", app.config["MAIL_FROM"])
        ]
    finally:
        sink.stop()
    assert Job.fetch(job_id, connection=jobs).get_status() == JobStatus.FINISHED
    assert db.session.query(SentMail).count() == 1


def test_relay_skips_rows_that_are_not_due_yet(app, jobs):
    import datetime as dt

    from warehouse.db import utcnow

    queue_mail(
        db.session,
        template="test_mail",
        to="a@example.org",
        language="en",
        context={},
        key="later",
        available_at=utcnow() + dt.timedelta(hours=1),
    )
    db.session.commit()
    assert relay(app, jobs).dispatched == []
    report = relay_pass(db.session, jobs, app.config, now=utcnow() + dt.timedelta(hours=2))
    db.session.commit()
    assert report.dispatched == ["mail:later"]


def test_an_unknown_kind_waits_in_the_outbox_with_a_reason(app, jobs):
    from warehouse.outbox import enqueue

    enqueue(db.session, "no_such_kind", {}, "odd:1")
    db.session.commit()
    assert relay(app, jobs).dispatched == []
    row = db.session.query(Outbox).one()
    assert row.dispatched_at is None
    assert "no_such_kind" in row.last_error


@pytest.mark.parametrize("address", ["", "nobody", "a b@example.org", "x@localhost"])
def test_test_mail_to_a_bad_address_is_refused_and_writes_nothing(app, address):
    from warehouse.errors import InvalidInput

    supervisor = factories.user(Role.SUPERVISOR)
    db.session.commit()
    before = row_counts(Outbox, Event)
    with pytest.raises(InvalidInput) as refused:
        request_test_mail(db.session, Actor(user_id=supervisor.id), to=address)
    db.session.rollback()
    assert refused.value.field == "to"
    assert row_counts(Outbox, Event) == before


@pytest.mark.commits  # the worker runs in its own process
def test_a_worker_killed_mid_send_is_recovered_and_the_mail_arrives_once(
    app, jobs, mail_sink, redis_server, tmp_path
):
    from stations import ROOT
    from stations.worker import recover_abandoned_jobs
    from warehouse.relay import queue_names

    mail_sink.handler.rcpt_delay = 30  # the sink holds its answer: the send hangs mid-way
    queue_mail(
        db.session,
        template="test_mail",
        to="b@example.org",
        language="de",
        context={},
        key="killed",
    )
    db.session.commit()
    relay(app, jobs)
    job_id = job_id_for("mail:killed")
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_server.url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(mail_sink.port),
        "RETURNYARD_INSTANCE": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key",
    }
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--class", "fork"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert mail_sink.handler.rcpt_seen.wait(30), (tmp_path / "worker.log").read_text()
        assert Job.fetch(job_id, connection=jobs).get_status() == JobStatus.STARTED
        # Its scheduler has registered too (a worker killed in the very first moments, before
        # that, leaves rq's scheduler lock to expire on its own, about a minute).
        deadline = time.monotonic() + 10
        while not jobs.keys("rq:scheduler:*") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker, its work horse and its scheduler
        worker.wait(10)
        log.close()
    assert mail_sink.received == []
    assert db.session.query(SentMail).count() == 0

    mail_sink.handler.rcpt_delay = 0
    assert recover_abandoned_jobs(jobs, queue_names(app.config)) == [job_id]
    # Usually the dead scheduler's lock is released at once; under a loaded machine the kill
    # can land after the scheduler took its lock but before it wrote its pid, and then the
    # retry waits for rq's lock expiry (about a minute): the mail must still arrive once.
    drain(app, jobs, timeout=90)
    assert [mail.message_id for mail in mail_sink.received] == [
        message_id_for("mail:killed", app.config["MAIL_FROM"])
    ]
    assert db.session.query(SentMail).count() == 1
    assert Job.fetch(job_id, connection=jobs).get_status() == JobStatus.FINISHED


def test_a_periodic_task_runs_once_per_time_slot(app, jobs, monkeypatch):
    import datetime as dt

    from warehouse import jobs as job_registry

    runs = []

    @job_registry.periodic("test_sweep", every=dt.timedelta(hours=1))
    def sweep(job, payload):
        runs.append((job.idempotency_key, payload["slot"]))

    monkeypatch.setattr(
        "warehouse.relay.PERIODIC", {"test_sweep": job_registry.PERIODIC["test_sweep"]}
    )
    try:
        slot_start = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
        for minutes in (1, 30, 59):  # three relay passes inside one hourly slot
            relay_pass(db.session, jobs, app.config, now=slot_start + dt.timedelta(minutes=minutes))
            db.session.commit()
        relay_pass(db.session, jobs, app.config, now=slot_start + dt.timedelta(minutes=61))
        db.session.commit()
        drain(app, jobs)
    finally:
        job_registry.PERIODIC.pop("test_sweep")
        job_registry.JOB_KINDS.pop("test_sweep")
    assert sorted(runs) == [
        ("periodic:test_sweep:2026-03-01T10:00:00+00:00", "2026-03-01T10:00:00+00:00"),
        ("periodic:test_sweep:2026-03-01T11:00:00+00:00", "2026-03-01T11:00:00+00:00"),
    ]
