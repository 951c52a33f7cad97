"""The database handle and the column types every model shares."""

from __future__ import annotations

import datetime as dt

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


def lock_row(session, model, row_id: int) -> None:
    """Hold `model` row `row_id`'s write lock until the transaction ends, on either database.

    `SELECT … FOR UPDATE` is silently ignored by SQLite; a write is not: an UPDATE that
    changes nothing takes the row's lock on PostgreSQL and the database's write lock on SQLite,
    so a second transaction doing the same waits here and then reads what the first committed.
    Call it before reading what the lock protects.
    """
    table = model.__table__
    session.execute(sa.update(table).where(table.c.id == row_id).values(id=table.c.id))
