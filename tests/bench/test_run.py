"""A CI-sized run of `make bench` (a few hundred units, a fraction of a second per endpoint), so
the benchmark cannot rot: every endpoint answers, the table is written, and every process the
run started is gone afterwards."""

from __future__ import annotations

import os
import shutil

import pytest

from bench import run

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


ENDPOINTS = (
    "bare Flask, a fragment",
    "floor:read",
    "floor:write",
    "grade scan (look-up)",
    "route scan (look-up)",
    "customer look-up",
    "API GET return",
    "dashboard",
    "dashboard, one client",
    "receive scan (parcel card + event)",
    "unit confirm (receive)",
    "grade (GRADE-NEW)",
    "put-away (bin scan)",
    "API announce",
)


def _every_endpoint_answered(text: str) -> None:
    for name in ENDPOINTS:
        row = next(line for line in text.splitlines() if line.startswith(f"| {name}"))
        cells = [cell.strip() for cell in row.split("|")]
        assert int(cells[2].replace(",", "")) > 0, row  # it answered requests
        assert cells[5] == "0", row  # and none of them was refused


def test_a_small_bench_run_writes_the_table_and_stops_what_it_started(tmp_path, monkeypatch):
    """Run twice on one `--keep` folder: the second measures the first one's fill again."""
    started = []
    original = run.Processes.start

    def recording(self, args, env, log):
        process = original(self, args, env, log)
        started.append(process)
        return process

    monkeypatch.setattr(run.Processes, "start", recording)
    out, keep = tmp_path / "benchmarks.md", tmp_path / "kept"
    small = [
        *("--units", "300", "--connections", "2", "--databases", "sqlite", "--queue", "60"),
        *("--documents", "0,0,0", "--out", str(out), "--keep", str(keep)),
    ]
    assert run.main([*small, "--seconds", "0.3"]) == 0
    text = out.read_text()
    _every_endpoint_answered(text)
    assert "SQLite, 300 units" in text
    assert "Filled in " in text
    assert len(started) == 4  # redis, the app, bare Flask, the floors
    fills = (keep / "filled.json").read_text()
    assert '"sqlite-300"' in fills
    assert (keep / "bench-300.sqlite3").exists()

    assert run.main([*small, "--seconds", "0.1"]) == 0
    text = out.read_text()
    _every_endpoint_answered(text)
    assert "Filled by an earlier run (commit " in text
    assert (keep / "filled.json").read_text() == fills  # not filled, so not recorded again
    assert len(started) == 8
    for process in started:
        assert process.poll() is not None, process.args
        with pytest.raises(ProcessLookupError):
            os.kill(process.pid, 0)


def test_the_route_scan_sample_is_a_unit_the_route_scan_accepts(app):
    """The first graded unit may be held for its partner's decision, which the scan refuses."""
    from tests import factories
    from warehouse import routing
    from warehouse.db import db
    from warehouse.models import Grade, RefundState, RejectedReturns

    waits = factories.partner(rejected_returns=RejectedReturns.SEND_BACK)
    held = factories.graded(Grade.NEW, partner=waits)
    held.refund_state = RefundState.OPEN
    free = factories.graded(Grade.NEW)
    free.refund_state = RefundState.APPROVED
    db.session.flush()
    assert held.id < free.id
    assert routing.on_hold(held) is not None
    assert run.routable_unit(db.session) == free
    free.refund_state = RefundState.OPEN
    free.partner.rejected_returns = RejectedReturns.SEND_BACK
    db.session.flush()
    with pytest.raises(RuntimeError, match="can be routed"):
        run.routable_unit(db.session)


def test_a_server_is_measured_only_once_it_answers_its_page_with_200(tmp_path):
    """A port that accepts connections is not enough: in one 10 M run the floors' port had been
    reached, and then every request of the run failed (why is not known)."""
    import subprocess
    import sys

    port = run.free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        (tmp_path / "page").write_text("ok")
        assert run.served(port, "/page", server, log) is None
        why = run.served(port, "/missing", server, log, seconds=1)
        assert why.startswith("(still running)")
        assert "404" in why  # the log's last lines say what it answered
    finally:
        run.stop_one(server)
    with log.open("w") as out:
        gone = subprocess.Popen([sys.executable, "-c", "print('no such app')"], stdout=out)
        gone.wait()
    assert run.served(run.free_port(), "/", gone, log) == "(exited)\nno such app"
