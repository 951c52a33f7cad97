"""The routing demo stage: rules, bins, units at every route, an open RTV batch."""

from __future__ import annotations

import sqlalchemy as sa

import demo
from warehouse.db import db
from warehouse.models import (
    Batch,
    BatchKind,
    BatchStatus,
    Disposition,
    DispositionRule,
    Listing,
    Location,
    LocationKind,
    Placement,
    Unit,
    UnitStatus,
)


def test_the_demo_has_units_at_every_route_and_an_open_rtv_batch(app):
    demo.load(db.session)
    db.session.commit()
    routes = set(db.session.scalars(sa.select(Placement.disposition).distinct()))
    assert routes == set(Disposition)
    assert {loc.kind for loc in db.session.query(Location)} == set(LocationKind)
    assert db.session.query(DispositionRule).count() >= 5
    open_rtv = db.session.query(Batch).filter_by(kind=BatchKind.RTV, status=BatchStatus.OPEN)
    assert open_rtv.count() >= 1
    assert db.session.query(Batch).filter_by(status=BatchStatus.SHIPPED).count() == 1
    assert db.session.query(Listing).count() >= 8
    # Some units wait at the route station, some are closed already.
    assert db.session.query(Unit).filter_by(status=UnitStatus.GRADED).count() >= 4
    assert db.session.query(Unit).filter_by(status=UnitStatus.CLOSED).count() >= 1
