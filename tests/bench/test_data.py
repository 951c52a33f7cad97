"""The bench data generator: a realistic warehouse, the same for the same seed, only into an
empty database, readable by every screen's queries."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import sqlalchemy as sa

from bench.data import (
    CHUNK_MODELS,
    _add_bins,
    _bins,
    _chunk,
    _code,
    _Ids,
    fill,
    generate,
    insert_rows,
    keys_checked_after,
)
from tests import factories
from warehouse import codes, figures
from warehouse.db import db
from warehouse.errors import Conflict
from warehouse.models import (
    Case,
    CaseStatus,
    Destination,
    Event,
    Figure,
    LocationKind,
    Order,
    OrderLine,
    Remedy,
    ReturnLine,
    ReturnRequest,
    Role,
    Unit,
    UnitStatus,
)

TODAY = dt.date(2026, 11, 30)


def _quiet(_line: str) -> None:
    pass


def test_it_fills_every_stage_and_builds_the_figures(app):
    counts = generate(db.session, units=400, seed=7, today=TODAY, echo=_quiet)
    assert 380 <= counts["units"] <= 420
    assert counts["orders"] == 3 * counts["returns"]
    statuses = dict(
        db.session.execute(sa.select(Unit.status, sa.func.count()).group_by(Unit.status)).all()
    )
    assert statuses[UnitStatus.CLOSED] > counts["units"] * 0.8
    returns = {row.status for row in db.session.query(Case)}
    assert CaseStatus.APPROVED in returns
    assert db.session.query(Figure).filter_by(metric="sold").count() > 0
    scope = figures.Scope("2026-01", "2026-11", site_id=None)
    rates = figures.return_rates(db.session, scope)
    assert 0.2 < rates["by_month"][5]["rate"] < 0.5  # about one in three orders comes back
    backlog = {row.stage: row.count for row in figures.backlog(db.session, site_id=None)}
    assert sum(backlog.values()) > 0  # the last days are still in the building


def test_the_same_seed_gives_the_same_rows(app):
    site = factories.site()
    product = factories.product(factories.partner())
    operator = factories.user(Role.OPERATOR)
    products = [(product.id, product.partner_id, 4999)]
    now = dt.datetime(2026, 11, 30, 17, tzinfo=dt.UTC)
    bins = {kind: [(n, f"BIN-{n}")] for n, kind in enumerate(LocationKind, 1)}

    def rows(seed):
        ids = _Ids(db.session, CHUNK_MODELS)
        made = _chunk(random.Random(seed), ids, 50, 0, products, [operator], site, bins, TODAY, now)
        return {model.__name__: table for model, table in made.items()}

    assert rows(3) == rows(3)
    assert rows(3) != rows(4)


def test_bulk_rows_are_stored_as_given_and_left_out_columns_get_their_defaults(app):
    """On PostgreSQL the rows go in with COPY, on SQLite with INSERTs: read back, every value
    is the one the generator gave, and a column it left out holds its default."""
    site = factories.site()
    product = factories.product(factories.partner())
    operator = factories.user(Role.OPERATOR)
    _add_bins(db.session, site, 2)
    now = dt.datetime(2026, 11, 30, 17, tzinfo=dt.UTC)
    made = _chunk(
        random.Random(5),
        _Ids(db.session, CHUNK_MODELS),
        60,
        0,
        [(product.id, product.partner_id, 4999)],
        [operator],
        site,
        _bins(db.session, site),
        TODAY,
        now,
    )
    insert_rows(db.session, made)
    db.session.commit()
    for model, given in made.items():
        assert given, model.__name__  # every table of a chunk is exercised
        keys = list(given[0])
        table = model.__table__
        stored = db.session.execute(
            sa.select(*(table.c[key] for key in keys)).order_by(table.c.id)
        ).all()
        assert [dict(zip(keys, row, strict=True)) for row in stored] == given, model.__name__
    # Left out by the generator: the columns' defaults.
    assert {line.remedy for line in db.session.query(ReturnLine)} == {Remedy.REFUND}
    assert {rma.destination for rma in db.session.query(ReturnRequest)} == {Destination.WAREHOUSE}
    assert {line.guarantee_extended_months for line in db.session.query(OrderLine)} == {0}


def test_codes_are_unique_and_scannable():
    lpns = [_code(n, 8) for n in range(5000)]
    assert len(set(lpns)) == len(lpns)
    assert all(codes.lpn_status("LP" + lpn) for lpn in lpns)
    assert all(codes.rma_status("RMA-" + _code(n, 6)) for n in range(0, 10**6, 997))


def test_it_refuses_a_database_with_orders(app):
    factories.order([(factories.product(factories.partner()), 1)])
    db.session.commit()
    with pytest.raises(Conflict, match="empty"):
        generate(db.session, units=10, echo=_quiet)


def test_new_rows_after_it_get_fresh_ids(app):
    generate(db.session, units=20, seed=1, today=TODAY, echo=_quiet)
    order = factories.order([(factories.product(factories.partner()), 1)])
    db.session.commit()
    assert order.id > db.session.scalar(sa.select(sa.func.count()).select_from(Order)) - 1


@pytest.mark.commits  # the vacuum runs on a connection of its own, after the load committed
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_on_postgresql_bench_data_leaves_the_tables_vacuumed_and_analysed(app):
    """As autovacuum leaves a database that has been running: measured straight after a bulk
    load, every index-only read would go to the table and the planner would guess."""
    fill(db.session, units=60, seed=3, echo=_quiet)
    stats = db.session.execute(
        sa.text(
            "SELECT relname, last_vacuum, last_analyze FROM pg_stat_user_tables "
            "WHERE relname IN ('unit', 'return_request', 'figure')"
        )
    ).all()
    assert len(stats) == 3
    assert all(vacuumed and analysed for _name, vacuumed, analysed in stats)


_FOREIGN_KEYS = sa.text(
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE contype = 'f'"
)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_on_postgresql_the_foreign_keys_dropped_for_the_load_come_back_as_they_were(app):
    before = set(db.session.execute(_FOREIGN_KEYS).all())
    assert any(table == "event" for table, _name, _definition in before)
    generate(db.session, units=60, seed=3, today=TODAY, echo=_quiet)
    assert set(db.session.execute(_FOREIGN_KEYS).all()) == before


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_on_postgresql_a_row_the_load_leaves_dangling_fails_the_keys_check(app):
    partner = factories.partner()
    db.session.commit()
    row = {
        "at": dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC),
        "kind": "unit.received",
        "subject_type": "unit",
        "subject_id": 1,
        "partner_id": partner.id + 1000,  # no such partner
        "data": {},
    }
    loaded = []

    def load():
        with keys_checked_after(db.session, CHUNK_MODELS, echo=_quiet):
            insert_rows(db.session, {Event: [row]})
            db.session.commit()
            loaded.append(row)  # the key is not there while the block loads

    with pytest.raises(sa.exc.IntegrityError, match="fk_event_partner_id_partner"):
        load()
    assert loaded
