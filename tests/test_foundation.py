"""The ground floor: the app builds, migrations match the models, health answers."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests import factories
from tests.helpers import login_as
from warehouse.db import db
from warehouse.models import Role


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations disagree; add a migration: {diff}"


def test_healthz_reports_database_and_redis(client):
    body = client.get("/healthz").get_json()
    assert (body["database"], body["redis"]) == ("ok", "ok")
    # no job worker runs in this test: mail would wait, so the instance is degraded, not down
    assert body["status"] == "degraded"
    assert body["workers"]["alive"] == 0
    assert body["outbox_backlog"] == {"count": 0, "oldest_age_seconds": None}


def test_healthz_without_redis_is_degraded_but_up(app, redis_server):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("returnyard.redis", None)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "degraded"
    assert response.get_json()["redis"].startswith("error")
    assert response.get_json()["workers"].startswith("unknown")
    assert response.get_json()["outbox_backlog"]["count"] == 0


def test_login_and_logout(client):
    user = factories.user(Role.SUPERVISOR)
    assert client.get("/").status_code == 302
    login_as(client, user)
    assert client.get("/").status_code == 200


def test_wrong_password_is_refused(client):
    user = factories.user(Role.OPERATOR)
    db.session.commit()
    page = client.get("/login").get_data(as_text=True)
    from tests.helpers import csrf_from

    response = client.post(
        "/login", data={"email": user.email, "password": "nope", "csrf_token": csrf_from(page)}
    )
    assert response.status_code == 401
    assert "Wrong email or password" in response.get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client):
    user = factories.user(Role.OPERATOR)
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 400


def test_money_columns_are_integers(app):
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if column.name.endswith("_minor"):
                assert isinstance(column.type, sa.Integer), f"{table.name}.{column.name}"


def test_factories_build_a_graded_unit(app):
    seller = factories.partner()
    item = factories.product(seller)
    order = factories.order([(item, 2)])
    rma = factories.return_request(order)
    unit = factories.graded_unit(rma.lines[0])
    db.session.commit()
    assert unit.lpn
    assert unit.partner_id == seller.id
    assert unit.grade.value == "new"


def test_a_partner_user_or_token_without_a_partner_cannot_exist(app):
    from sqlalchemy.exc import IntegrityError

    from warehouse.models import ApiToken, User

    for row in (
        User(email="p@x.test", name="P", password_hash="x", role=Role.PARTNER),
        ApiToken(token_hash="0" * 64, prefix="ry_x", role=Role.PARTNER),
    ):
        db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
        else:  # pragma: no cover - the constraint is missing
            raise AssertionError(f"a partner {type(row).__name__} without a partner was stored")
    assert db.session.query(User).count() == db.session.query(ApiToken).count() == 0


def test_create_user_refuses_a_partner_user_without_a_partner_before_asking_a_password(runner):
    from warehouse.models import User

    result = runner.invoke(args=["create-user", "p@x.test", "partner"], input="")
    assert result.exit_code == 2
    assert "a partner user belongs to one partner: add --partner CODE" in result.output
    assert "Password" not in result.output
    assert db.session.query(User).count() == 0
