"""The database handle and the column types every model shares."""

from __future__ import annotations

import collections
import datetime as dt
import fcntl
import os
import threading
import time

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with stable constraint names, so migrations are reproducible."""

    metadata = sa.MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)

# The largest id a row can have (PostgreSQL `integer`); a larger one in a URL names nothing.
MAX_ID = 2**31 - 1


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored as naive UTC and always handed back timezone-aware (UTC).

    SQLite keeps no zone, PostgreSQL would convert to the session zone; storing naive UTC in
    both and attaching UTC on the way out gives the same answer on either database.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """An aware instant as naive UTC for the database; a naive one is refused."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a zone first")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        """The stored naive UTC value as an aware UTC instant."""
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


# How far ahead of ours another system's clock may run (carriers, channels, payment systems).
CLOCK_SKEW = dt.timedelta(minutes=10)


def utcnow() -> dt.datetime:
    """The current instant, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


def bulk_insert(session: sa.orm.Session, table: sa.Table, rows: list[dict]) -> None:
    """Insert many rows in the session's transaction: with COPY on PostgreSQL (several times
    faster than the INSERTs it otherwise gets), with one executemany INSERT elsewhere. What
    the session holds unflushed goes in first.

    Every row names the same columns (by their keys); each value goes through its column
    type's bind processing, as an INSERT would send it (None as NULL), and a column the rows
    leave out gets its scalar default. The COPY goes to psycopg directly: SQLAlchemy's events
    and logging do not see it, and a failure comes out as psycopg's own error."""
    if not rows:
        return
    session.flush()  # the rows may refer to objects the session has not written yet
    connection = session.connection()
    dialect = connection.dialect
    if dialect.driver != "psycopg":  # COPY as psycopg 3 offers it
        session.execute(sa.insert(table), rows)
        return
    keys = list(rows[0])
    columns = [table.c[key] for key in keys]
    for column in table.columns:
        if column.key in rows[0] or column.default is None:
            continue
        if not column.default.is_scalar:
            raise ValueError(f"{table.name}.{column.name}: the rows must give its value")
        columns.append(column)
    processors = [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]
    fixed = [
        processor(column.default.arg) if processor else column.default.arg
        for column, processor in zip(columns[len(keys) :], processors[len(keys) :], strict=True)
    ]
    given = list(zip(keys, processors[: len(keys)], strict=True))
    quote = dialect.identifier_preparer
    statement = (
        f"COPY {quote.format_table(table)} "
        f"({', '.join(quote.format_column(column) for column in columns)}) FROM STDIN"
    )
    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(statement) as copy:
        for row in rows:
            if row.keys() != rows[0].keys():
                raise ValueError(f"{table.name}: every row must name {', '.join(keys)}")
            values = [processor(row[key]) if processor else row[key] for key, processor in given]
            copy.write_row(values + fixed)


def lock_row(session, model, row_id: int) -> None:
    """Hold `model` row `row_id`'s write lock until the transaction ends, on either database.

    PostgreSQL: `SELECT … FOR UPDATE`, the row's lock. SQLite ignores that, and has one lock
    for the whole database, which a write statement takes as it starts, whatever it changes:
    an UPDATE of no row at all is enough. (Setting `id` to itself, as this once did, made
    SQLite check every table whose foreign keys point at the row: 70-120 ms at 300 000 units
    for a unit or an order, on the grade and announce paths.) A second transaction doing the
    same waits here and then reads what the first committed. Call it before reading what the
    lock protects.
    """
    table = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.select(table.c.id).where(table.c.id == row_id).with_for_update())
    else:
        session.execute(
            sa.update(table).where(table.c.id == row_id, sa.false()).values(id=table.c.id)
        )


class WriteTurns:
    """SQLite writers take turns, first come first served, instead of SQLite's busy wait.

    SQLite lets one connection write at a time; a second one waiting for the file lock sleeps
    and retries (1, 2, 5 … 100 ms), so under load the lock is often free while every waiter
    still sleeps, and a scan waits seconds behind writes that took milliseconds. Here a
    connection's first write statement of a transaction waits for its turn and gives it back
    when the transaction ends: in this process a queue of threads (the next one is woken as the
    turn is given back), between processes (web workers, the worker, the relay) an exclusive
    `flock` on a file beside the database, which the kernel hands on the same way. A turn not
    given within `timeout` seconds is not waited for longer: the write goes on to SQLite as
    before, whose own busy timeout then decides. PostgreSQL locks rows, not files: it is left
    alone.
    """

    WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
    KEY = "returnyard.write_turn"

    def __init__(self) -> None:
        self.mutex = threading.Lock()
        self.waiting: collections.deque = collections.deque()
        self.held = False
        self.timeout = 15.0
        self.files: dict[str, int] = {}  # database path -> this process's lock file

    def install(self, timeout: float) -> None:
        """Listen to every engine (SQLite ones only take turns) and every pool, once."""
        self.timeout = timeout
        for name, listener in (
            ("before_cursor_execute", self._before),
            ("commit", self._done),
            ("rollback", self._done),
        ):
            if not sa.event.contains(sa.engine.Engine, name, listener):
                sa.event.listen(sa.engine.Engine, name, listener)
        for name in ("checkin", "invalidate"):
            if not sa.event.contains(sa.pool.Pool, name, self._let_go):
                sa.event.listen(sa.pool.Pool, name, self._let_go)

    def _before(self, conn, _cursor, statement, _parameters, _context, _executemany) -> None:
        if conn.dialect.name != "sqlite" or self.KEY in conn.info:
            return  # not SQLite, or this transaction asked for its turn already
        if not statement.lstrip()[:7].upper().startswith(self.WRITES):
            return
        path = conn.engine.url.database
        if not path or path == ":memory:":
            return
        # The same file whatever the process's working directory.
        conn.info[self.KEY] = self._take(os.path.abspath(path))

    def _take(self, path: str) -> str | None:
        """Wait for the turn; the lock file it holds, or None when it was not given in time."""
        deadline = time.monotonic() + self.timeout
        with self.mutex:
            mine = not self.held and not self.waiting
            if mine:
                self.held = True
            else:
                waiter = threading.Lock()
                waiter.acquire()
                self.waiting.append(waiter)
        if not mine:
            handed = waiter.acquire(timeout=self.timeout)
            with self.mutex:
                if not handed and waiter in self.waiting:
                    self.waiting.remove(waiter)
                    return None
        fd = self._file(path)
        while True:  # the other processes' writers: the kernel queues flock, but not by time
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return path
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._give_back()
                    return None
                time.sleep(0.0005)

    def _file(self, path: str) -> int:
        fd = self.files.get(path)
        if fd is None:
            fd = os.open(path + ".turn", os.O_RDWR | os.O_CREAT, 0o600)
            self.files[path] = fd
        return fd

    def _give_back(self) -> None:
        with self.mutex:
            if self.waiting:
                self.waiting.popleft().release()  # handed on: still held
            else:
                self.held = False

    def _release(self, path: str | None) -> None:
        if path is None:
            return
        fcntl.flock(self.files[path], fcntl.LOCK_UN)
        self._give_back()

    def _done(self, conn) -> None:
        self._release(conn.info.pop(self.KEY, None))

    def _let_go(self, _dbapi_connection, record, *_exception) -> None:
        """A connection handed back or dropped mid-transaction gives its turn back."""
        self._release(record.info.pop(self.KEY, None))


WRITE_TURNS = WriteTurns()
