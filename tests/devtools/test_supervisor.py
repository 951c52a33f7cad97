"""make run's supervisor: a process that dies comes back, and stopping stops everything (the
Redis it started too). Real processes on loopback, each stopped by its own pid."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devtools.localredis import answers, server_command
from stations import ROOT
from tests.servers import free_port

pytestmark = pytest.mark.slow


def _started(log, name: str) -> list[int]:
    text = log.read_text() if log.exists() else ""
    return [int(pid) for pid in re.findall(rf"started {name} \(pid (\d+)\)", text)]


def _wait(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rpartition(")")[2].split()[0] == "Z"


def test_a_killed_program_is_restarted_and_stopping_stops_all_with_redis(tmp_path):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    redis_argv = server_command(url, tmp_path)
    assert redis_argv is not None
    sleeper = f"{sys.executable} -c 'import time; time.sleep(300)'"
    supervisor = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "devtools.supervisor",
            "--logs",
            str(tmp_path / "logs"),
            "redis=" + " ".join(redis_argv),
            f"sleeper={sleeper}",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    log = tmp_path / "logs" / "supervisor.log"
    try:
        _wait(lambda: answers(url) and _started(log, "sleeper"))
        [first] = _started(log, "sleeper")
        os.kill(first, signal.SIGKILL)  # as the OOM killer would
        _wait(lambda: len(_started(log, "sleeper")) == 2)
        second = _started(log, "sleeper")[1]
        assert second != first
        assert "sleeper exited with code -9" in log.read_text()
        [redis_pid] = _started(log, "redis")
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(20)
    assert supervisor.returncode == 0
    assert not answers(url)  # the Redis it started is stopped with it
    _wait(lambda: _gone(second) and _gone(redis_pid), timeout=5)
    assert "all stopped" in log.read_text()


def test_local_redis_is_not_started_when_one_answers(redis_server, tmp_path):
    assert server_command(redis_server.url, tmp_path) is None


def test_a_remote_redis_that_does_not_answer_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="not a local one"):
        server_command("redis://redis.invalid:6379/0", tmp_path)
