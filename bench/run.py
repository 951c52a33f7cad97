"""`make bench`: the hot paths measured from outside, side by side with the floors.

One run on this machine, loopback only, every process started here and stopped by its pid:
1. for each database (SQLite in a temporary folder, PostgreSQL in a throwaway cluster started
   here) and each size: a database filled by `bench-data --units N`, today's work on top of it
   (`bench.data.work_queue`: parcels on their way, units to grade and to put away, orders not
   yet returned), a station user, a supervisor and an API token;
2. the app, bare Flask and the database floors (`bench/floors.py`), each under gunicorn with
   the same settings (`gunicorn.conf.py`), and a Redis of its own;
3. for each endpoint, `--connections` keep-alive clients for `--seconds` (bounded in requests
   too). A write scan takes a fresh record from its pool for every request, as the station
   would (a parcel not yet received, a unit not yet graded): the run stops early when the pool
   is used up. Requests per second, p50 and p99; the statements of one request, counted
   in-process on the same database; the ratio to bare Flask and to the endpoint's floor;
4. the tables written to `docs/benchmarks.md` with the machine, the date and the commit, and
   the bulk jobs (`bench/documents.py`: labels, the resale export, the product import)
   measured once.
With `--keep FOLDER` the filled databases stay in FOLDER (the SQLite files, the PostgreSQL
cluster) and a later run measures a size filled there again without filling it: a 10 M fill
of hours need not be made again because a run was stopped after it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import itertools
import json
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
OPERATOR = "bench@returnyard.test"
SUPERVISOR = "bench-supervisor@returnyard.test"
CUSTOMER = "customer"  # a customer's session: the order look-up page's own CSRF token
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Endpoint:
    """One hot path: the request (or a pool of them, one per request) and its floor."""

    name: str
    target: str  # "app", "bare" or "floors"
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    bodies: list[str | None] = field(default_factory=lambda: [None])
    fresh: bool = False  # each request takes the next body of the pool
    floor: str | None = None
    who: str | None = None  # whose session counts its queries (OPERATOR, SUPERVISOR, CUSTOMER)
    connections: int | None = None  # clients at once, when not --connections


@dataclass
class Result:
    """One endpoint's run."""

    name: str
    requests: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    queries: int | None = None
    floor: str | None = None
    pool_used_up: bool = False

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
        try:
            for process in reversed(self.started):  # all told first, so they stop together
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in reversed(self.started):
                reap(process)
        finally:
            for handle in self.logs:
                handle.close()
        self.started, self.logs = [], []


def gunicorn(target: str, port: int, workers: int) -> list[str]:
    """The command serving `target` on loopback `port`, as every server of the run is served
    (`gunicorn.conf.py`, no access log)."""
    return [
        str(BIN / "gunicorn"),
        *("--config", "gunicorn.conf.py", "--workers", str(workers)),
        *("--access-logfile", "/dev/null", "--bind", f"127.0.0.1:{port}", target),
    ]


def wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}")


def served(
    port: int, path: str, server: subprocess.Popen, log: Path, seconds: float = 60
) -> str | None:
    """Wait until the server answers `path` with 200: None, or why not (its log's last lines)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", path)
            answer = conn.getresponse()
            answer.read()
            if answer.status == 200:
                return None
        except (OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    state = "exited" if server.poll() is not None else "still running"
    tail = log.read_text(errors="replace").splitlines()[-30:]
    return f"({state})\n" + "\n".join(tail)


def stop_one(process: subprocess.Popen) -> None:
    """SIGTERM to the process this run started (by its pid), SIGKILL after 15 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    reap(process)


def reap(process: subprocess.Popen) -> None:
    """Wait for a process told to stop; SIGKILL (by its pid) if it is still there after 15 s."""
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Connection:
    """A lean keep-alive HTTP/1.1 client: the request's bytes are built before the clock runs,
    and the answer is read by its Content-Length, so the client takes little of the CPU the
    servers share with it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def _fill(self) -> None:
        chunk = self.sock.recv(262_144)
        if not chunk:
            raise ConnectionError("closed")
        self.buffer += chunk

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status = int(head[9:12])
        lowered = head.lower()
        length = re.search(rb"\r\ncontent-length: *(\d+)", lowered)
        if length:
            size = int(length.group(1))
            while len(self.buffer) < size:
                self._fill()
            body, self.buffer = self.buffer[:size], self.buffer[size:]
        else:  # chunked (a streamed answer): read to the last chunk
            while b"\r\n0\r\n\r\n" not in self.buffer and not self.buffer.startswith(b"0\r\n"):
                self._fill()
            body, _, self.buffer = self.buffer.partition(b"0\r\n\r\n")
        if b"\r\nconnection: close" in lowered:
            self.close()
        return status, body


def encode(method: str, path: str, headers: dict[str, str], body: str | None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    data = (body or "").encode()
    if body is not None:
        lines.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def drive(port: int, endpoint: Endpoint, *, seconds: float, connections: int) -> Result:
    """`connections` keep-alive clients sending the endpoint's request for `seconds`; a pool
    gives each request its own record and keeps its last one for counting the queries."""
    requests = [
        encode(endpoint.method, endpoint.path, endpoint.headers, body) for body in endpoint.bodies
    ]
    pool = len(requests)
    usable = pool - 1 if endpoint.fresh else pool
    if usable < 1:
        raise ValueError(f"{endpoint.name}: its pool has {pool} record(s); give --queue more")
    taken = itertools.count()  # next() on it is atomic: each record goes to one request
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    result = Result(endpoint.name, 0, seconds, floor=endpoint.floor)

    def client() -> None:
        conn = Connection(port)
        mine, errors, first_error = [], 0, ""
        while time.monotonic() < stop_at and result.requests + len(mine) < MAX_REQUESTS:
            index = next(taken)
            if endpoint.fresh and index >= usable:
                result.pool_used_up = True
                break
            started = time.perf_counter()
            try:
                status, body = conn.exchange(requests[index % usable])
            except OSError as error:
                errors += 1
                first_error = first_error or repr(error)
                conn.close()
                continue
            mine.append(time.perf_counter() - started)
            if status >= 400:
                errors += 1
                first_error = first_error or f"{status} {body[:300]!r}"
        conn.close()
        with lock:
            result.latencies.extend(mine)
            result.requests += len(mine)
            result.errors += errors
            result.first_error = result.first_error or first_error

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def login(port: int, email: str | None) -> tuple[str, str]:
    """A session and its CSRF token: a logged-in station user's, or (no email) a customer's
    on the order look-up page."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/returns/" if email is None else "/login")
    answer = conn.getresponse()
    page = answer.read().decode()
    cookie = answer.getheader("Set-Cookie", "").split(";", 1)[0]
    token = CSRF.search(page).group(1)
    if email is None:
        conn.close()
        return cookie, token
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
    token = CSRF.search(answer.read().decode()).group(1)
    conn.close()
    return cookie, token


def routable_unit(session, *, among: int = 1000):
    """The first graded unit a route scan accepts: not one held for its partner's decision
    (`warehouse.routing.on_hold`), which the scan refuses (at 10 M units the first graded unit
    was one, and the run stopped there)."""
    from warehouse import routing
    from warehouse.models import Unit, UnitStatus

    graded = session.query(Unit).filter_by(status=UnitStatus.GRADED).order_by(Unit.id)
    for unit in graded.limit(among):
        if routing.on_hold(unit) is None:
            return unit
    raise RuntimeError(f"none of the first {among} graded units can be routed")


def commit() -> str:
    """The checkout measured: its commit, marked `-dirty` with changes not committed."""
    try:
        found = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return found.stdout.strip()


class Kept:
    """The folder `--keep` names: the filled databases (SQLite files, a PostgreSQL cluster)
    and `filled.json`, which says which sizes were filled there, at which commit, when and in
    how long. A size goes into it only once its fill has finished, so a fill that was stopped
    is made again from the start by the next run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.file = folder / "filled.json"

    def _read(self) -> dict:
        try:
            return json.loads(self.file.read_text())
        except FileNotFoundError:
            return {}

    def fill_of(self, label: str) -> dict | None:
        return self._read().get(label)

    def record(self, label: str, seconds: float) -> None:
        fills = self._read()
        fills[label] = {
            "seconds": round(seconds),
            "commit": commit(),
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        }
        written = self.file.with_suffix(".tmp")
        written.write_text(json.dumps(fills, indent=1) + "\n")
        written.replace(self.file)


def prepare(env: dict[str, str], units: int, queue: int, *, fill: bool = True) -> dict:
    """The database with N units (filled here unless `fill` is false: a kept one filled by
    an earlier run) and today's work, a station user, a supervisor and a token."""
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    steps = [["db", "upgrade"]] + ([["bench-data", "--units", str(units)]] if fill else [])
    for args in steps:
        subprocess.run(flask + args, cwd=ROOT, env=env, check=True, capture_output=True)
    from bench.data import work_queue
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
        # The look-ups scan what bench-data made (a unit waiting for its grade, a graded one),
        # or today's work when the warehouse is too small to have any.
        queue = work_queue(db.session, count=queue)
        waiting = (
            db.session.query(Unit).filter_by(status=UnitStatus.RECEIVED).order_by(Unit.id).first()
        )
        graded = routable_unit(db.session)
        rma = db.session.query(ReturnRequest).order_by(ReturnRequest.id).first()
        for email, name, role in (
            (OPERATOR, "Bench operator", Role.OPERATOR),
            (SUPERVISOR, "Bench supervisor", Role.SUPERVISOR),
        ):
            # A kept database has them from the run that filled it.
            user = db.session.query(User).filter_by(email=email).one_or_none()
            if user is None:
                user = User(email=email, name=name, role=role)
                db.session.add(user)
            user.password_hash = hash_password(PASSWORD)
            user.site_id = graded.site_id
        token = issue_token(db.session, Role.SUPERVISOR, None, "bench")
        db.session.commit()
        sample = {"lpn": graded.lpn, "waiting": waiting.lpn, "rma": rma.rma, "token": token}
        sample["queue"] = queue
        db.engine.dispose()
    sample["app"] = app
    return sample


def plan(sample: dict, *, operator: tuple[str, str], supervisor: str, customer) -> list[Endpoint]:
    """The endpoints in the order they run: the floors, the look-ups, then the writes."""
    cookie, csrf = operator
    form = {
        "Cookie": cookie,
        "X-CSRFToken": csrf,
        "HX-Request": "true",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    queue = sample["queue"]
    lpn, code = sample["lpn"], sample["waiting"]
    parcels, received, graded, orders = (
        queue[stage] for stage in ("announced", "received", "graded", "kept")
    )
    encode_form = urllib.parse.urlencode
    api = {"Authorization": f"Bearer {sample['token']}"}
    # Receiving: half of the parcels are scanned open, the other half get a unit confirmed
    # (a parcel's first unit: the card, the unit, its label and the events).
    half = len(parcels) // 2
    # Customers look up a third of the orders not yet returned; the API announces the rest.
    third = len(orders) // 3
    return [
        Endpoint("bare Flask, a fragment", "bare", "GET", f"/?code={lpn}"),
        Endpoint("floor:read", "floors", "GET", f"/read?code={lpn}"),
        Endpoint("floor:write", "floors", "GET", f"/write?code={lpn}"),
        Endpoint(
            "grade scan (look-up)",
            "app",
            "POST",
            "/grade/scan",
            form,
            [encode_form({"code": code})],
            floor="floor:read",
            who=OPERATOR,
        ),
        Endpoint(
            "route scan (look-up)",
            "app",
            "POST",
            "/route/scan",
            form,
            [encode_form({"code": lpn})],
            floor="floor:read",
            who=OPERATOR,
        ),
        Endpoint(
            "customer look-up",
            "app",
            "POST",
            "/returns/",
            {
                "Cookie": customer[0],
                "X-CSRFToken": customer[1],
                "Content-Type": "application/x-www-form-urlencoded",
            },
            [
                encode_form({"order_number": o["order"], "email_or_postcode": "1011 AB"})
                for o in orders[:third]
            ],
            floor="floor:read",
            who=CUSTOMER,
        ),
        Endpoint(
            "API GET return",
            "app",
            "GET",
            f"/api/v1/returns/{sample['rma']}",
            api,
            floor="floor:read",
        ),
        Endpoint(
            "dashboard",
            "app",
            "GET",
            "/dashboard",
            {"Cookie": supervisor},
            floor="floor:read",
            who=SUPERVISOR,
        ),
        Endpoint(
            "dashboard, one client",
            "app",
            "GET",
            "/dashboard",
            {"Cookie": supervisor},
            floor="floor:read",
            who=SUPERVISOR,
            connections=1,
        ),
        Endpoint(
            "receive scan (parcel card + event)",
            "app",
            "POST",
            "/receive/scan",
            form,
            [
                encode_form({"code": p["rma"], "rma_id": "", "seen": "", "unit_id": ""})
                for p in parcels[:half]
            ],
            fresh=True,
            floor="floor:write",
            who=OPERATOR,
        ),
        Endpoint(
            "unit confirm (receive)",
            "app",
            "POST",
            "/receive/scan",
            form,
            [
                encode_form({"code": p["gtin"], "rma_id": p["rma_id"], "seen": ""})
                for p in parcels[half:]
            ],
            fresh=True,
            floor="floor:write",
            who=OPERATOR,
        ),
        Endpoint(
            "grade (GRADE-NEW)",
            "app",
            "POST",
            "/grade/scan",
            form,
            [encode_form({"code": "GRADE-NEW", "unit_id": u["unit_id"]}) for u in received],
            fresh=True,
            floor="floor:write",
            who=OPERATOR,
        ),
        Endpoint(
            "put-away (bin scan)",
            "app",
            "POST",
            "/route/scan",
            form,
            [encode_form({"code": u["bin"], "pending_lpn": u["lpn"]}) for u in graded],
            fresh=True,
            floor="floor:write",
            who=OPERATOR,
        ),
        Endpoint(
            "API announce",
            "app",
            "POST",
            "/api/v1/returns",
            {**api, "Content-Type": "application/json"},
            [
                json.dumps(
                    {
                        "order_number": o["order"],
                        "lines": [
                            {"line_id": o["line_id"], "quantity": 1, "reason": "changed_mind"}
                        ],
                    }
                )
                for o in orders[third:]
            ],
            fresh=True,
            floor="floor:write",
        ),
    ]


def count_queries(app, endpoint: Endpoint) -> int:
    """Statements one request runs, counted in-process on the same database, with a session of
    its own (logged in through the test client for a station's); a pool's last record is kept
    for this, so a write is counted on a fresh record too."""
    import sqlalchemy as sa

    from warehouse.db import db

    client = app.test_client()
    sent = {k: v for k, v in endpoint.headers.items() if k not in ("Cookie", "X-CSRFToken")}
    if endpoint.who is not None:
        page = client.get("/returns/" if endpoint.who == CUSTOMER else "/login")
        token = CSRF.search(page.get_data(as_text=True)).group(1)
        if endpoint.who != CUSTOMER:
            client.post(
                "/login", data={"email": endpoint.who, "password": PASSWORD, "csrf_token": token}
            )
            token = CSRF.search(client.get("/grade").get_data(as_text=True)).group(1)
        sent["X-CSRFToken"] = token
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        answer = client.open(
            endpoint.path, method=endpoint.method, data=endpoint.bodies[-1], headers=sent
        )
        if answer.status_code >= 400:
            raise RuntimeError(f"{endpoint.name}: {answer.status_code} {answer.data[:300]!r}")
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    return len(statements)


def table(results: list[Result], *, heading: str) -> str:
    floors = {r.name: r.rate for r in results if r.name.startswith("floor:")}
    bare_rate = results[0].rate or 1.0
    rows = [
        "| endpoint | req/s | p50 ms | p99 ms | errors | queries | vs bare Flask "
        "| vs its DB floor |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        floor = floors.get(r.floor or "")
        name = r.name + (" ¹" if r.pool_used_up else "")
        rows.append(
            f"| {name} | {r.rate:,.0f} | {r.percentile(0.5):.1f} | {r.percentile(0.99):.1f} "
            f"| {r.errors} | {'' if r.queries is None else r.queries} "
            f"| {r.rate / bare_rate:.2f} x | "
            + (f"{r.rate / floor:.2f} x ({r.floor[6:]}) |" if floor else "- |")
        )
    return f"### {heading}\n\n" + "\n".join(rows) + "\n"


def flatness(runs: dict[tuple[str, int], list[Result]]) -> str:
    """Each endpoint's rate at the largest size against the smallest, per database."""
    out = []
    for database in dict.fromkeys(kind for kind, _ in runs):
        sizes = sorted(units for kind, units in runs if kind == database)
        if len(sizes) < 2:
            continue
        small, large = runs[(database, sizes[0])], runs[(database, sizes[-1])]
        out += [
            f"### {database}: {sizes[-1]:,} units against {sizes[0]:,}\n",
            "| endpoint | req/s small | req/s large | slower by | p99 small | p99 large |",
            "|---|---|---|---|---|---|",
        ]
        for a, b in zip(small, large, strict=True):
            if a.name.startswith(("bare", "floor:")):
                continue
            slower = a.rate / b.rate if b.rate else float("inf")
            out.append(
                f"| {a.name} | {a.rate:,.0f} | {b.rate:,.0f} | {slower:.2f} x "
                f"| {a.percentile(0.99):.1f} | {b.percentile(0.99):.1f} |"
            )
        out.append("\n")
    return "\n".join(out)


def run_one(
    processes: Processes,
    env: dict[str, str],
    args,
    *,
    units: int,
    work: Path,
    label: str,
    bare_port: int,
    kept: Kept | None = None,
) -> tuple[list[Result], str]:
    """One database at one size: fill it (or take the one `kept` has), serve it, drive every
    endpoint; the results and a sentence on how it was filled."""
    earlier = kept.fill_of(label) if kept else None
    began = time.monotonic()
    sample = prepare(env, units, args.queue, fill=earlier is None)
    seconds = time.monotonic() - began
    if earlier is None:
        filled = (
            f"Filled in {seconds:,.0f} s (`bench-data`, the dashboards' figures and today's work)."
        )
        if kept:
            kept.record(label, seconds)
    else:
        filled = (
            f"Filled by an earlier run (commit {earlier['commit']}, {earlier['date']}) in "
            f"{earlier['seconds']:,.0f} s, kept in `--keep`; today's work added in "
            f"{seconds:,.0f} s."
        )
    print(f"{label}: {filled}", file=sys.stderr)
    import sqlalchemy as sa

    from bench.floors import written

    engine = sa.create_engine(env["BENCH_DATABASE_URL"])
    try:
        written.create(engine, checkfirst=True)  # here, once: not by each of the floors' workers
    finally:
        engine.dispose()
    ports = {"bare": bare_port}
    wait_for(bare_port)
    for name, target, path in (
        ("app", "wsgi:app", "/login"),
        ("floors", "bench.floors:floors()", "/read?code=-"),
    ):
        for attempt in (1, 2):
            log = work / f"{name}-{label}-{attempt}.log"
            ports[name] = free_port()  # a fresh one each try: the last may have been taken
            server = processes.start(gunicorn(target, ports[name], args.workers), env, log)
            why = served(ports[name], path, server, log)
            if why is None:
                break
            # Said in the run's own output: the work folder and its logs go at the end.
            print(f"{label} {name} does not answer {path} (try {attempt}):\n{why}", file=sys.stderr)
            stop_one(server)
        else:
            raise RuntimeError(f"{label}: {name} never answered {path}; its log is printed above")
    operator = login(ports["app"], OPERATOR)
    supervisor, _ = login(ports["app"], SUPERVISOR)
    customer = login(ports["app"], None)
    results = []
    for endpoint in plan(sample, operator=operator, supervisor=supervisor, customer=customer):
        result = drive(
            ports[endpoint.target],
            endpoint,
            seconds=args.seconds,
            connections=endpoint.connections or args.connections,
        )
        if endpoint.target == "app":
            try:
                result.queries = count_queries(sample["app"], endpoint)
            except RuntimeError as error:  # measured all the same; the table says why not counted
                result.first_error = result.first_error or str(error)
                result.errors = result.errors or 1
        results.append(result)
        print(
            f"{label} {endpoint.name}: {result.rate:,.0f} req/s, "
            f"p99 {result.percentile(0.99):.1f} ms, {result.errors} errors "
            f"{result.first_error[:200]}",
            file=sys.stderr,
        )
    with sample["app"].app_context():
        from warehouse.db import db

        db.engine.dispose()
    return results, filled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--units", default="10000", help="returned units, comma-separated sizes (10000,1000000)"
    )
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="sqlite, postgresql or both"
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--queue", type=int, default=6000, help="records per write scan's pool (today's work)"
    )
    parser.add_argument(
        "--documents",
        default="1000,100000,100000",
        help="labels, export rows, import rows for the bulk jobs; 0 skips them",
    )
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument(
        "--keep",
        metavar="FOLDER",
        help="keep the filled databases in FOLDER; a size filled there already is measured "
        "again without filling",
    )
    args = parser.parse_args(argv)
    sizes = [int(value) for value in args.units.split(",")]
    databases = [value.strip() for value in args.databases.split(",") if value.strip()]
    unknown = set(databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database {', '.join(sorted(unknown))}: sqlite or postgresql")

    work = Path(tempfile.mkdtemp(prefix="ry-bench-"))
    lasting, postgres = Processes(), None
    runs: dict[tuple[str, int], list[Result]] = {}
    fills: dict[tuple[str, int], str] = {}
    kept = Kept(Path(args.keep).resolve()) if args.keep else None
    try:
        redis_port = free_port()
        lasting.start(
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
        bare_port = free_port()
        lasting.start(
            gunicorn("bench.floors:bare()", bare_port, args.workers),
            dict(os.environ),
            work / "bare.log",
        )
        wait_for(redis_port)
        if "postgresql" in databases:
            from tests.servers import PostgresServer

            postgres = PostgresServer(
                durable=True, kept=kept.folder / "postgresql" if kept else None
            )
            postgres.start()
        for database in databases:
            kind = "PostgreSQL" if database == "postgresql" else "SQLite"
            for units in sizes:
                label = f"{database}-{units}"
                again = kept is not None and kept.fill_of(label) is not None
                if database == "postgresql":
                    name = f"bench_{units}"
                    url = postgres.url(name) if again else postgres.create_database(name)
                else:
                    path = (kept.folder if kept else work) / f"bench-{units}.sqlite3"
                    if not again:
                        path.unlink(missing_ok=True)  # what a stopped fill left
                    url = f"sqlite:///{path}"
                env = dict(
                    os.environ,
                    RETURNYARD_INSTANCE=str(work / f"instance-{label}"),
                    DATABASE_URL=url,
                    REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
                    BENCH_DATABASE_URL=url,
                )
                serving = Processes()
                try:
                    runs[(kind, units)], fills[(kind, units)] = run_one(
                        serving,
                        env,
                        args,
                        units=units,
                        work=work,
                        label=label,
                        bare_port=bare_port,
                        kept=kept,
                    )
                finally:
                    serving.stop()
                # Written as each section is done, so a long run that is stopped keeps them.
                write(Path(args.out), report(runs, fills, args))
        documents = ""
        counts = [int(value) for value in args.documents.split(",")]
        if any(counts):
            from bench.documents import measure_all
            from bench.documents import table as documents_table

            url = f"sqlite:///{work / 'documents.sqlite3'}"
            subprocess.run(
                [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
                cwd=ROOT,
                env=dict(os.environ, DATABASE_URL=url, RETURNYARD_INSTANCE=str(work / "docs")),
                check=True,
                capture_output=True,
            )
            labels, export_rows, import_rows = counts
            documents = "\n### Bulk jobs (SQLite, in-process)\n\n" + documents_table(
                measure_all(url, labels=labels, export_rows=export_rows, import_rows=import_rows)
            )
        text = report(runs, fills, args) + documents
        write(Path(args.out), text)
        print(text)
        return 0
    finally:
        lasting.stop()
        if postgres is not None:
            postgres.close()
        shutil.rmtree(work, ignore_errors=True)


def write(out: Path, text: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


def report(runs: dict[tuple[str, int], list[Result]], fills: dict, args) -> str:
    sections = [
        table(results, heading=f"{kind}, {units:,} units") + f"\n{fills[(kind, units)]}\n"
        for (kind, units), results in runs.items()
    ]
    used_up = any(r.pool_used_up for results in runs.values() for r in results)
    return (
        "# Benchmarks\n\n"
        f"Measured by `make bench` on {dt.datetime.now(dt.UTC).date().isoformat()} "
        f"(commit {commit()}), "
        f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{args.connections} connections x {args.seconds:g} s per endpoint, gunicorn "
        f"{args.workers} workers (gunicorn.conf.py), loopback, one run; the client shares the "
        "machine. A write scan takes a fresh record per request (today's work, "
        f"{args.queue:,} of each kind on top of the units); queries are one request's "
        "statements, counted in-process. PostgreSQL runs with its own durable defaults.\n\n"
        + "\n".join(sections)
        + (
            "\n¹ its pool of fresh records ran out before the time was up: the rate is over "
            "the time it ran.\n"
            if used_up
            else ""
        )
        + "\n"
        + flatness(runs)
    )


if __name__ == "__main__":
    raise SystemExit(main())
