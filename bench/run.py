"""`make bench`: the hot paths measured from outside, side by side with the floors.

One run on this machine, loopback only, every process started here and stopped by its pid:
1. a database filled by `bench-data --units N` (SQLite in a temporary folder by default, or
   `--database-url` for PostgreSQL), a Redis of its own, a station user and an API token;
2. the app, bare Flask and the database floors (`bench/floors.py`), each under gunicorn with
   the same settings (`gunicorn.conf.py`, 2 workers);
3. for each endpoint, `--connections` keep-alive clients for `--seconds` (bounded in requests
   too): requests per second, p50 and p99; queries per request counted in-process on the same
   database; the ratio to bare Flask and to the endpoint's database floor;
4. the table written to `docs/benchmarks.md` with the machine and the date.

Measured so far: the read paths (grade and route scan look-ups, the API's return, the
dashboard) against the read floor. The write scans (receive confirm, grade, put-away) and the
API announcement need a pool of fresh units per request and are not driven yet.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "bench-operator-password"  # noqa: S105 - a throwaway database's user
MAX_REQUESTS = 200_000  # per endpoint, whatever --seconds says


@dataclass
class Result:
    """One endpoint's run."""

    name: str
    requests: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    queries: int | None = None
    floor: str | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Processes:
    """The processes this run started, stopped by their pid."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []
        self.logs: list = []

    def start(self, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
        handle = log.open("w")
        self.logs.append(handle)
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
        self.started.append(process)
        return process

    def stop(self) -> None:
        for process in reversed(self.started):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.started:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for handle in self.logs:
            handle.close()


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}")


def drive(
    port: int,
    path: str,
    *,
    method: str,
    headers: dict,
    body: str | None,
    seconds: float,
    connections: int,
) -> Result:
    """`connections` keep-alive clients sending the request for `seconds`."""
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    result = Result(path, 0, seconds)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, errors = [], 0
        while time.monotonic() < stop_at and result.requests + len(mine) < MAX_REQUESTS:
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                answer = conn.getresponse()
                answer.read()
                if answer.status >= 400:
                    errors += 1
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - started)
        conn.close()
        with lock:
            result.latencies.extend(mine)
            result.requests += len(mine)
            result.errors += errors

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def login(port: int, email: str) -> tuple[str, str]:
    """A logged-in session: (cookie header, csrf token)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/login")
    answer = conn.getresponse()
    page = answer.read().decode()
    cookie = answer.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token})
    conn.request(
        "POST",
        "/login",
        body=form,
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    answer = conn.getresponse()
    answer.read()
    cookie = (answer.getheader("Set-Cookie") or cookie).split(";", 1)[0]
    conn.request("GET", "/grade", headers={"Cookie": cookie})
    answer = conn.getresponse()
    page = answer.read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    conn.close()
    return cookie, token


def prepare(env: dict[str, str], units: int, log_dir: Path) -> dict:
    """The database with N units, a station user and a token; sample codes to scan."""
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    for args in (["db", "upgrade"], ["bench-data", "--units", str(units)]):
        subprocess.run(flask + args, cwd=ROOT, env=env, check=True, capture_output=True)
    from stations import create_app
    from warehouse.accounts import hash_password, issue_token
    from warehouse.db import db
    from warehouse.models import ReturnRequest, Role, Unit, UnitStatus, User

    app = create_app(  # this process's own app on the same database (its environment stays)
        {
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
            "INSTANCE_PATH": env["RETURNYARD_INSTANCE"],
            "REDIS_URL": env["REDIS_URL"],
        }
    )
    with app.app_context():
        # The grade station scans units waiting for a grade; the route station graded ones.
        waiting = db.session.query(Unit).filter_by(status=UnitStatus.RECEIVED).first()
        unit = (
            db.session.query(Unit).filter_by(status=UnitStatus.GRADED).first()
            or waiting
            or db.session.query(Unit).order_by(Unit.id.desc()).first()
        )
        rma = db.session.query(ReturnRequest).first()
        user = User(
            email="bench@returnyard.test",
            name="Bench operator",
            password_hash=hash_password(PASSWORD),
            role=Role.OPERATOR,
            site_id=unit.site_id,
        )
        supervisor = User(
            email="bench-supervisor@returnyard.test",
            name="Bench supervisor",
            password_hash=hash_password(PASSWORD),
            role=Role.SUPERVISOR,
            site_id=unit.site_id,
        )
        db.session.add_all([user, supervisor])
        token = issue_token(db.session, Role.SUPERVISOR, None, "bench")
        db.session.commit()
        return {
            "app": app,
            "lpn": unit.lpn,
            "waiting": (waiting or unit).lpn,
            "rma": rma.rma,
            "token": token,
        }


def count_queries(
    app, method: str, path: str, *, email: str | None, headers: dict, body: str | None
) -> int:
    """Statements one request runs, counted in-process on the same database (the request
    after a login through the test client when it is a station's)."""
    import sqlalchemy as sa

    from warehouse.db import db

    client = app.test_client()
    sent = {k: v for k, v in headers.items() if k not in ("Cookie", "X-CSRFToken")}
    if email is not None:
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
        page = client.get("/grade").get_data(as_text=True)
        sent["X-CSRFToken"] = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        client.open(path, method=method, data=body, headers=sent)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    return len(statements)


def table(results: list[Result], *, units: int, database: str, bare_rate: float) -> str:
    floors = {r.name: r.rate for r in results if r.name.startswith("floor:")}
    rows = [
        "| endpoint | req/s | p50 ms | p99 ms | errors | queries | vs bare Flask "
        "| vs its DB floor |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        floor = floors.get(r.floor or "")
        rows.append(
            f"| {r.name} | {r.rate:,.0f} | {r.percentile(0.5):.1f} | {r.percentile(0.99):.1f} "
            f"| {r.errors} | {'' if r.queries is None else r.queries} "
            f"| {r.rate / bare_rate:.2f} x | " + (f"{r.rate / floor:.2f} x |" if floor else "- |")
        )
    head = f"### {database}, {units:,} units\n\n"
    return head + "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="ry-bench-"))
    processes = Processes()
    try:
        redis_port = free_port()
        processes.start(
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            dict(os.environ),
            work / "redis.log",
        )
        wait_for(redis_port)
        database = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
        env = dict(
            os.environ,
            RETURNYARD_INSTANCE=str(work / "instance"),
            DATABASE_URL=database,
            REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
            BENCH_DATABASE_URL=database,
        )
        sample = prepare(env, args.units, work)
        gunicorn = [
            str(BIN / "gunicorn"),
            "--config",
            "gunicorn.conf.py",
            "--workers",
            str(args.workers),
            "--access-logfile",
            "/dev/null",
        ]
        ports = {}
        for name, target in (
            ("app", "wsgi:app"),
            ("bare", "bench.floors:bare()"),
            ("floors", "bench.floors:floors()"),
        ):
            ports[name] = free_port()
            processes.start(
                [*gunicorn, "--bind", f"127.0.0.1:{ports[name]}", target], env, work / f"{name}.log"
            )
        for port in ports.values():
            wait_for(port)
        cookie, csrf = login(ports["app"], "bench@returnyard.test")
        supervisor_cookie, _ = login(ports["app"], "bench-supervisor@returnyard.test")
        form = {
            "Cookie": cookie,
            "X-CSRFToken": csrf,
            "HX-Request": "true",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        lpn, rma = sample["lpn"], sample["rma"]
        plan = [
            ("bare Flask, a fragment", "bare", "GET", f"/?code={lpn}", {}, None, None),
            ("floor:read", "floors", "GET", f"/read?code={lpn}", {}, None, None),
            ("floor:write", "floors", "GET", f"/write?code={lpn}", {}, None, None),
            (
                "grade scan (look-up)",
                "app",
                "POST",
                "/grade/scan",
                form,
                urllib.parse.urlencode({"code": sample["waiting"]}),
                "floor:read",
            ),
            (
                "route scan (look-up)",
                "app",
                "POST",
                "/route/scan",
                form,
                urllib.parse.urlencode({"code": lpn}),
                "floor:read",
            ),
            (
                "API GET return",
                "app",
                "GET",
                f"/api/v1/returns/{rma}",
                {"Authorization": f"Bearer {sample['token']}"},
                None,
                "floor:read",
            ),
            (
                "dashboard",
                "app",
                "GET",
                "/dashboard",
                {"Cookie": supervisor_cookie},
                None,
                "floor:read",
            ),
        ]
        results = []
        for name, target, method, path, headers, body, floor in plan:
            result = drive(
                ports[target],
                path,
                method=method,
                headers=headers,
                body=body,
                seconds=args.seconds,
                connections=args.connections,
            )
            result.name, result.floor = name, floor
            if target == "app":
                email = None
                if "Cookie" in headers:
                    supervisor = headers["Cookie"] == supervisor_cookie
                    email = (
                        "bench-supervisor@returnyard.test"
                        if supervisor
                        else ("bench@returnyard.test")
                    )
                result.queries = count_queries(
                    sample["app"], method, path, email=email, headers=headers, body=body
                )
            results.append(result)
            print(
                f"{name}: {result.rate:,.0f} req/s, p99 {result.percentile(0.99):.1f} ms",
                file=sys.stderr,
            )
        bare_rate = results[0].rate or 1.0
        kind = "PostgreSQL" if database.startswith("postgresql") else "SQLite"
        text = (
            "# Benchmarks\n\n"
            f"Measured by `make bench` on {dt.datetime.now(dt.UTC).date().isoformat()}, "
            f"{platform.node()}: "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"{args.connections} connections x {args.seconds:g} s per endpoint, gunicorn "
            f"{args.workers} workers (gunicorn.conf.py), loopback, one run.\n\n"
            + table(results, units=args.units, database=kind, bare_rate=bare_rate)
            + "\nThe write scans (receive confirm, grade, put-away), the customer look-up and "
            "the API announcement are not driven yet (they need a pool of fresh records per "
            "request); 1 M units and PostgreSQL runs: `--units`, `--database-url`.\n"
        )
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        print(text)
        return 0
    finally:
        processes.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
