"""Serving (issue 11, point 9): gunicorn as `make run` starts it keeps answering while slow
clients trickle their requests in. Loopback only, bounded in time; the server is stopped by
the pid this test started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")

pytestmark = pytest.mark.commits  # the server process reads the database the test migrated


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int, timeout: float = 30) -> None:
    """Until the worker answers /healthz: the master listens before its worker has booted, and
    on a slow machine the boot (importing the app) takes seconds the measurement must not hold."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"gunicorn did not answer /healthz on {port} within {timeout} s")


@pytest.fixture(params=["sqlite"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def served(app, redis_server, tmp_path):
    """gunicorn with the project's config and one worker (the hardest case) on a free port."""
    port = _free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_server.url,
        "SECRET_KEY": "serving-test",
        "RETURNYARD_INSTANCE": str(tmp_path),
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [
            str(GUNICORN),
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for(port)
        yield port
    finally:
        os.killpg(
            server.pid, signal.SIGTERM
        )  # the group this test started: gunicorn and its worker
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(5)
        log.close()


def _threads() -> int:
    settings: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), settings)  # noqa: S102 - our own config
    return settings["threads"]


def test_clients_trickling_headers_on_all_threads_but_one_do_not_freeze_healthz(served):
    """The probe froze /healthz with four such clients; one worker now takes threads - 1 of
    them (15) and still answers. (Past that only a buffering proxy helps: README.)"""
    port = served
    slow = []
    for _ in range(_threads() - 1):
        client = socket.create_connection(("127.0.0.1", port), timeout=5)
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        slow.append(client)
    try:
        for _ in range(3):  # one more header byte a second from each, as in the probe
            time.sleep(1)
            for client in slow:
                client.sendall(b"X")
            started = time.monotonic()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                assert answer.status == 200
            assert time.monotonic() - started < 2
    finally:
        for client in slow:
            client.close()
