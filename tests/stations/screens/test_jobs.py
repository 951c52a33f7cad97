"""The supervisor's Jobs and Mailbox screens, and /healthz with workers and the outbox."""

from __future__ import annotations

import re

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus

from tests import factories
from tests.helpers import csrf_from, drain, login_as, relay, row_counts
from tests.servers import free_port
from warehouse import i18n
from warehouse.db import db
from warehouse.mail import message_id_for, queue_mail
from warehouse.models import Event, Outbox, Role, SentMail
from warehouse.relay import job_id_for


@pytest.fixture(autouse=True)
def _no_periodic_tasks(monkeypatch):
    """Other stages' periodic tasks (escalations, ...) would add their rows to every relay pass."""
    monkeypatch.setattr("warehouse.relay.PERIODIC", {})


def _mail(key: str, to: str = "p@example.com") -> None:
    queue_mail(
        db.session,
        template="test_mail",
        to=to,
        language="en",
        context={"requested_by": "T", "requested_at": "x"},
        key=key,
    )


@pytest.fixture
def failed_mail(app, jobs):
    """A send_email job that failed all its retries because SMTP was down."""
    smtp_port = app.config["SMTP_PORT"]
    app.config.update(SMTP_PORT=free_port(), JOB_RETRY_INTERVALS=[1])
    _mail("down")
    db.session.commit()
    relay(app, jobs)
    job_id = job_id_for("mail:down")
    queue = Queue("mail", connection=jobs)
    drain(app, jobs, until=lambda: job_id in queue.failed_job_registry.get_job_ids())
    app.config.update(SMTP_PORT=smtp_port)
    return job_id


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.PARTNER])
def test_only_supervisors_see_the_jobs_and_mailbox_screens(app, client, role):
    partner = factories.partner() if role == Role.PARTNER else None
    login_as(client, factories.user(role, partner))
    for url in ("/jobs", "/mailbox", "/mailbox/sent/1"):
        assert client.get(url).status_code == 403, url
    page = client.get("/").get_data(as_text=True)
    assert "/jobs" not in page
    assert "/mailbox" not in page


def test_failed_job_shows_with_its_error_and_a_requeue_delivers_it_once(
    app, client, jobs, failed_mail, mail_sink
):
    login_as(client, factories.user(Role.SUPERVISOR))
    page = client.get("/jobs").get_data(as_text=True)
    assert failed_mail in page
    assert "ConnectionRefusedError" in page
    assert "p@example.com" in page

    token = csrf_from(page)
    response = client.post(f"/jobs/{failed_mail}/requeue", data={"csrf_token": token})
    assert response.status_code == 303
    assert Job.fetch(failed_mail, connection=jobs).retries_left == 1  # full backoff again
    drain(app, jobs)
    assert [m.message_id for m in mail_sink.received] == [
        message_id_for("mail:down", app.config["MAIL_FROM"])
    ]
    assert Job.fetch(failed_mail, connection=jobs).get_status() == JobStatus.FINISHED
    events = db.session.query(Event).filter_by(kind="job.requeued").all()
    assert [e.subject_type for e in events] == ["outbox"]

    page = client.get("/jobs").get_data(as_text=True)
    assert "No failed jobs" in page
    # the job is not failed any more: requeueing it again is a 404, not a second send
    assert (
        client.post(f"/jobs/{failed_mail}/requeue", data={"csrf_token": token}).status_code == 404
    )


def test_discard_removes_a_failed_job_for_good(app, client, jobs, failed_mail, mail_sink):
    login_as(client, factories.user(Role.SUPERVISOR))
    token = csrf_from(client.get("/jobs").get_data(as_text=True))
    assert (
        client.post(f"/jobs/{failed_mail}/discard", data={"csrf_token": token}).status_code == 303
    )
    assert not Job.exists(failed_mail, connection=jobs)
    drain(app, jobs)
    assert mail_sink.received == []
    assert relay(app, jobs).dispatched == []  # the outbox row stays dispatched: no resend
    assert db.session.query(Event).filter_by(kind="job.discarded").count() == 1


def test_requeue_and_discard_need_the_csrf_token(app, client, jobs, failed_mail):
    login_as(client, factories.user(Role.SUPERVISOR))
    for action in ("requeue", "discard"):
        assert client.post(f"/jobs/{failed_mail}/{action}").status_code == 400
    assert failed_mail in Queue("mail", connection=jobs).failed_job_registry.get_job_ids()
    token = csrf_from(client.get("/jobs").get_data(as_text=True))
    assert client.post("/jobs/ob_unknown/requeue", data={"csrf_token": token}).status_code == 404


def test_an_operator_cannot_requeue_or_discard(app, client, jobs, failed_mail):
    login_as(client, factories.user(Role.OPERATOR))
    token = csrf_from(client.get("/").get_data(as_text=True))
    for action in ("requeue", "discard"):
        response = client.post(f"/jobs/{failed_mail}/{action}", data={"csrf_token": token})
        assert response.status_code == 403
    assert failed_mail in Queue("mail", connection=jobs).failed_job_registry.get_job_ids()


def test_jobs_panel_shows_backlog_queues_and_workers(app, client, jobs):
    _mail("waiting-1")
    _mail("waiting-2")
    login_as(client, factories.user(Role.SUPERVISOR))
    page = client.get("/jobs").get_data(as_text=True)
    assert "2 waiting" in page
    assert "No worker is running" in page

    relay(app, jobs)
    worker = SimpleWorker(["mail", "default"], connection=jobs, name="panel-worker")
    worker.register_birth()
    try:
        page = client.get("/jobs").get_data(as_text=True)
        assert "nothing waiting" in page
        assert "panel-worker" in page
        assert re.search(r"<td>mail</td><td class=\"num\">2</td>", page)
        health = client.get("/healthz").get_json()
        assert health["workers"]["alive"] == 1
        assert health["status"] == "ok"
        assert health["outbox_backlog"]["count"] == 0
    finally:
        worker.register_death()


def test_jobs_panel_and_healthz_answer_with_redis_down(app, client, jobs, redis_server):
    _mail("stuck")
    login_as(client, factories.user(Role.SUPERVISOR))
    redis_server.stop()
    try:
        relay(app, jobs)
        page = client.get("/jobs").get_data(as_text=True)
        assert "Redis is unreachable" in page
        assert "1 waiting" in page
        assert "mail:stuck" in page  # with why it waits
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.get_json()["outbox_backlog"]["count"] == 1
        assert response.get_json()["status"] == "degraded"
    finally:
        redis_server.start()


def test_test_mail_from_the_mailbox_commits_with_redis_down_and_arrives_once_later(
    app, client, jobs, mail_sink, redis_server
):
    supervisor = factories.user(Role.SUPERVISOR)
    login_as(client, supervisor)
    token = csrf_from(client.get("/mailbox").get_data(as_text=True))
    redis_server.stop()
    try:
        response = client.post(
            "/mailbox/test",
            data={"csrf_token": token, "to": "partner@example.com", "language": "nl"},
        )
        assert response.status_code == 303
        assert db.session.query(Outbox).count() == 1
        assert relay(app, jobs).error
    finally:
        redis_server.start()
    relay(app, jobs)
    drain(app, jobs)
    assert len(mail_sink.received) == 1
    subject = i18n.in_language("nl", "Returnyard test mail")
    body = i18n.in_language(
        "nl",
        "This is a test mail from Returnyard. If you can read it, mail from the returns desk "
        "reaches you.",
    )[:20]
    assert subject != "Returnyard test mail"
    assert mail_sink.received[0].subject == subject

    sent = db.session.query(SentMail).one()
    page = client.get("/mailbox").get_data(as_text=True)
    assert subject in page
    assert "partner@example.com" in page
    shown = client.get(f"/mailbox/sent/{sent.id}").get_data(as_text=True)
    assert body in shown
    assert f'src="/mailbox/sent/{sent.id}/html"' in shown
    preview = client.get(f"/mailbox/sent/{sent.id}/html")  # the HTML part, under its own policy
    assert preview.status_code == 200
    assert body in preview.get_data(as_text=True)
    assert "script-src" not in preview.headers["Content-Security-Policy"]
    assert "sandbox" in preview.headers["Content-Security-Policy"]


def test_mailbox_shows_the_sinks_files_with_text_and_html(app, client, jobs, mail_sink):
    app.instance_path = str(mail_sink.folder.parent)  # the sink writes to <instance>/mail
    _mail("sink-view", to="customer@example.org")
    db.session.commit()
    relay(app, jobs)
    drain(app, jobs)
    login_as(client, factories.user(Role.SUPERVISOR))
    page = client.get("/mailbox").get_data(as_text=True)
    name = mail_sink.received[0].path.name
    assert f"/mailbox/sink/{name}" in page
    assert "received</span>" in page
    shown = client.get(f"/mailbox/sink/{name}").get_data(as_text=True)
    assert "customer@example.org" in shown
    assert "This is a test mail from Returnyard" in shown
    assert f'src="/mailbox/sink/{name}/html"' in shown  # the HTML part, in a sandboxed frame
    preview = client.get(f"/mailbox/sink/{name}/html")
    assert "<p>Hello,</p>" in preview.get_data(as_text=True)
    assert preview.headers["Content-Security-Policy"].endswith("sandbox")
    assert client.get("/mailbox/sink/..%2Fsecret_key").status_code == 404
    assert client.get("/mailbox/sink/..%2Fsecret_key/html").status_code == 404
    assert client.get("/mailbox/sink/nothing.eml").status_code == 404


def test_a_bad_test_mail_address_is_refused_with_a_message(app, client):
    login_as(client, factories.user(Role.SUPERVISOR))
    token = csrf_from(client.get("/mailbox").get_data(as_text=True))
    before = row_counts(Outbox, Event)
    response = client.post(
        "/mailbox/test",
        data={"csrf_token": token, "to": "not-an-address", "language": "en"},
        follow_redirects=True,
    )
    assert "is not an email address" in response.get_data(as_text=True)
    assert row_counts(Outbox, Event) == before
    assert client.post("/mailbox/test", data={"to": "a@example.org"}).status_code == 400


def test_the_mailbox_is_searchable_and_paged(app, client):
    for n in range(55):
        db.session.add(
            SentMail(
                idempotency_key=f"k{n}",
                message_id=f"<m{n}@returnyard>",
                recipient="anna@example.org" if n % 5 == 0 else f"other{n}@example.org",
                subject=f"Mail number {n:02d}",
                template="test_mail",
            )
        )
    login_as(client, factories.user(Role.SUPERVISOR))
    first = client.get("/mailbox").get_data(as_text=True)
    assert first.count("Mail number") == 50
    assert "page 1 of 2" in first.lower()
    second = client.get("/mailbox?page=2").get_data(as_text=True)
    assert second.count("Mail number") == 5
    found = client.get("/mailbox?q=ANNA@example").get_data(as_text=True)
    assert found.count("Mail number") == 11
    assert "other1@example.org" not in found


def test_failed_jobs_are_searchable(app, client, jobs, failed_mail):
    login_as(client, factories.user(Role.SUPERVISOR))
    assert failed_mail in client.get("/jobs?q=p@example").get_data(as_text=True)
    assert failed_mail not in client.get("/jobs?q=nobody-like-this").get_data(as_text=True)
