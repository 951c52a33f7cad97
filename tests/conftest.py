"""Test fixtures: real Redis, real PostgreSQL and SQLite, the app, a client and small helpers.

Database tests run once on SQLite and once on PostgreSQL (the `app` fixture is parametrized).
The schema is built by the real migrations once per database.

Each test runs inside one transaction that is rolled back at the end (the pypi/warehouse
pattern): the session is bound to a single connection and every `commit()` of the code under
test only releases a savepoint. That is fast and leaves nothing behind. A test that needs data
really committed, because another connection must see it (two stations racing in threads, a
worker process, a browser against a live server), says so with `@pytest.mark.commits`; after
it, every table is emptied instead.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session

from stations import create_app
from tests.servers import PostgresServer, RedisServer
from warehouse import espr, i18n
from warehouse.db import db

BACKENDS = ["sqlite", "postgresql"]
HARNESS_STATEMENTS = ("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
OUTPUT_ROOT = Path(__file__).resolve().parent.parent / "test-output"


def pytest_sessionstart(session):
    """The catalogs as `make` compiles them, for a run started with plain `pytest`."""
    i18n.compile_catalogs()


@pytest.fixture(scope="session")
def redis_server():
    """A real redis-server on a free loopback port for the whole session."""
    server = RedisServer()
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster for the whole session."""
    server = PostgresServer()
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def session_tmp():
    path = Path(tempfile.mkdtemp(prefix="ry-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


_migrated: dict[str, str] = {}


def database_url(backend: str, request, session_tmp: Path) -> str:
    """The URL of this session's migrated database for `backend`, migrating it on first use."""
    if backend in _migrated:
        return _migrated[backend]
    if backend == "sqlite":
        url = f"sqlite:///{session_tmp / 'returnyard-test.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database("returnyard_test")
    app = create_app(_settings(url, "redis://127.0.0.1:1/0", session_tmp))
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()
    _migrated[backend] = url
    return url


def _settings(url: str, redis_url: str, tmp: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": url,
        "REDIS_URL": redis_url,
        "INSTANCE_PATH": str(tmp / "instance"),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": 1,
        "PUBLIC_URL": "http://localhost",
        "SERVER_NAME": None,
    }


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Which database this test runs on: each database test runs on both."""
    return request.param


@pytest.fixture
def app_config() -> dict:
    """Extra settings a test module wants for its app (override in the module)."""
    return {}


# One app per settings for the whole session: building one compiles every URL rule (~45 ms),
# once per test that was a tenth of the suite. Each test gets it back as built: its settings,
# instance folder and per-app caches (the Redis client, the in-memory login counters) reset.
_apps: dict[str, tuple] = {}
_PER_APP_CACHES = ("returnyard.redis", "returnyard.login_counters")


def _app_for(settings: dict):
    key = repr(sorted(settings.items(), key=lambda item: item[0]))
    found = _apps.get(key)
    if found is None:
        application = create_app(settings)
        application.test_client_class = _OwnRequestClient
        found = (application, copy.deepcopy(dict(application.config)), application.instance_path)
        _apps[key] = found
    application, config, instance_path = found
    application.config.clear()
    application.config.update(copy.deepcopy(config))
    application.instance_path = instance_path
    for name in _PER_APP_CACHES:
        application.extensions.pop(name, None)
    espr.configure(application.config["ESPR_ENTERPRISE_SIZE"])
    return application


@pytest.fixture
def app(backend, request, session_tmp, redis_server, app_config):
    """The app on a migrated, empty database of `backend`, with the session's real Redis."""
    url = database_url(backend, request, session_tmp)
    settings = _settings(url, redis_server.url, session_tmp)
    settings.update(app_config)
    _forget_attempt_counters(redis_server.url)
    application = _app_for(settings)
    with application.app_context():
        if request.node.get_closest_marker("commits"):
            yield application
            db.session.remove()
            _empty_all_tables()
        else:
            with _rolled_back():
                yield application
        db.engine.dispose()


class _OwnRequestClient(FlaskClient):
    """A test client whose every request starts with an empty `g`, as in production.

    The test holds the app context open (for its database session), and Flask reuses an open
    app context for requests instead of pushing one each: without this, `g` would carry the
    logged-in user (Flask-Login) and the form token (Flask-WTF) from one request, and one
    client, to the next, and a logged-out or forged session could look logged in.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


def _forget_attempt_counters(url: str) -> None:
    """Each test starts with no login or look-up failures counted (all tests log in from
    127.0.0.1: counts left by one would lock the next out)."""
    from redis import Redis

    connection = Redis.from_url(url)
    for pattern in ("ry:rate:*", "ry:login:*"):
        keys = list(connection.scan_iter(match=pattern, count=500))
        if keys:
            connection.delete(*keys)
    connection.close()


class _OneConnectionSession(Session):
    """Flask-SQLAlchemy's session, bound to the test's one connection whatever it queries."""

    def get_bind(self, *args, **kwargs):
        return self.bind


@contextlib.contextmanager
def _rolled_back():
    """Run the test in one outer transaction, rolled back at the end; commits are savepoints."""
    connection = db.engine.connect()
    if connection.dialect.name == "sqlite":
        # pysqlite begins transactions lazily and knows no nesting; SQLAlchemy's documented
        # recipe: the driver stays out of it and SQLAlchemy emits BEGIN itself, so SAVEPOINTs
        # nest inside the test's transaction.
        connection.connection.driver_connection.isolation_level = None
        sa.event.listen(connection, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    outer = connection.begin()
    if connection.dialect.name == "postgresql":
        # Ids start at 1 in every test, as on SQLite, so failures reproduce run to run
        # (setval is not undone by the rollback, so it runs before each test).
        connection.execute(sa.text(_RESTART_SEQUENCES))
    original = db.session
    factory = sa.orm.sessionmaker(
        class_=_OneConnectionSession,
        db=db,
        bind=connection,
        join_transaction_mode="create_savepoint",
    )
    db.session = sa.orm.scoped_session(factory, scopefunc=original.registry.scopefunc)
    try:
        yield
    finally:
        db.session.remove()
        db.session = original
        outer.rollback()
        connection.invalidate()  # its driver settings are the test's: never reuse it
        connection.close()


_RESTART_SEQUENCES = "SELECT " + ", ".join(
    f"setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), 1, false)"
    for table in db.metadata.sorted_tables
    if "id" in table.columns
    and table.columns["id"].primary_key
    and isinstance(table.columns["id"].type, sa.Integer)
)


def _empty_all_tables() -> None:
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
        if connection.dialect.name == "postgresql":
            # Restart ids so failures are reproducible run to run.
            for table in db.metadata.sorted_tables:
                for column in table.primary_key.columns:
                    if column.autoincrement is True or (
                        isinstance(column.type, sa.Integer) and len(table.primary_key.columns) == 1
                    ):
                        connection.execute(
                            sa.text(
                                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', "
                                f"'{column.name}'), 1, false)"
                            )
                        )


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def output_dir(request) -> Path:
    """A folder under test-output/ for this test's screenshots and files (kept after the run)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-120:]
    path = OUTPUT_ROOT / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def count_queries(app):
    """Count SQL statements run inside a `with count_queries() as counter:` block."""
    import contextlib

    @contextlib.contextmanager
    def counting():
        statements: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            # The test's own transaction and savepoints are the harness, not the code's work
            # (in production a commit is a COMMIT, which no query count sees either).
            if not statement.startswith(HARNESS_STATEMENTS):
                statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", before)

    return counting


_MADE_INSTANCE: list[str] = []  # the instance folder this session made, removed at its end


def pytest_configure(config):
    if "RETURNYARD_INSTANCE" not in os.environ:
        _MADE_INSTANCE.append(tempfile.mkdtemp(prefix="ry-instance-"))
        os.environ["RETURNYARD_INSTANCE"] = _MADE_INSTANCE[0]


def pytest_unconfigure(config):
    """Each session made one folder (its secret key in it) and left it in /tmp."""
    for folder in _MADE_INSTANCE:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop("RETURNYARD_INSTANCE", None)


def pytest_collection_modifyitems(config, items):
    """Every test under tests/browser carries the `browser` and `commits` markers."""
    for item in items:
        if "tests/browser/" in item.nodeid:
            missing = {"browser", "commits"} - {mark.name for mark in item.iter_markers()}
            if missing:
                raise pytest.UsageError(f"{item.nodeid}: mark it {', '.join(sorted(missing))}")


# -- background jobs (issue 3): a real SMTP sink, RQ drained by real workers ---------------------


class SinkServer:
    """The app's own SMTP sink (`stations.mailsink`) on a free loopback port, restartable."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        from tests.servers import free_port

        self.folder = folder
        self.port = port or free_port()
        self.controller = None

    def start(self, **options) -> SinkServer:
        from devtools import mailsink

        self.controller = mailsink.start(self.folder, "127.0.0.1", self.port, **options)
        return self

    @property
    def handler(self):
        return self.controller.handler

    @property
    def received(self):
        return self.handler.received

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def mail_sink(tmp_path):
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every mail as .eml."""
    sink = SinkServer(tmp_path / "mail").start()
    yield sink
    sink.stop()


@pytest.fixture
def jobs(app, redis_server, mail_sink):
    """The app wired to the sink with short retry backoff, on an emptied Redis."""
    from redis import Redis

    connection = Redis.from_url(redis_server.url)
    connection.flushdb()
    app.config.update(SMTP_PORT=mail_sink.port, SMTP_TIMEOUT=5, JOB_RETRY_INTERVALS=[1, 1])
    yield connection
    if redis_server.process is None:
        redis_server.start()
    Redis.from_url(redis_server.url).flushdb()


@pytest.fixture
def label_printer():
    """A stand-in network label printer: a TCP listener on 127.0.0.1 keeping what it got."""
    from tests.servers import TcpSink

    sink = TcpSink()
    yield sink
    sink.close()
