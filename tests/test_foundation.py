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


def test_the_migrations_run_on_a_sqlite_database_holding_data(tmp_path):
    """SQLite changes a table by copying it ('batch' mode): with rows pointing at a partner,
    dropping the old partner table must not trip the foreign keys, nor leave a row dangling."""
    from flask_migrate import upgrade

    from stations import create_app
    from tests.conftest import _settings

    app = create_app(
        _settings(f"sqlite:///{tmp_path / 'old.sqlite3'}", "redis://127.0.0.1:1/0", tmp_path)
    )
    with app.app_context():
        upgrade(revision="0004")
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO partner (id, code, name, contact_email, language, address, "
                "commission_rate_bp, window_days, grace_days, approval_mode, destination, "
                "defective_handling, out_of_window, refund_deduction_bp, resale_discount_bp, "
                "refund_paid_by, consult_escalate_days) VALUES (1, 'OLD', 'Old', 'o@x.example', "
                "'en', '', 1000, 14, 0, 'auto', 'warehouse', 'destroy', 'consult', '{}', '{}', "
                "'partner', 3)"
            )
            connection.exec_driver_sql(
                "INSERT INTO product (id, partner_id, sku, gtin, title, category, stock) "
                "VALUES (1, 1, 'S-1', '4006381333931', 'Shoe', 'fashion', 0)"
            )
            # A shipment delivered before sales were booked (0012 books its sale).
            for statement in (
                "INSERT INTO site (id, code, name, timezone, country_code, address) "
                "VALUES (1, 'WAL', 'Waalwijk', 'Europe/Amsterdam', 'NL', '')",
                "INSERT INTO country (code, name, currency, language, site_id, return_address) "
                "VALUES ('NL', 'Netherlands', 'EUR', 'nl', 1, 'Retour 1')",
                'INSERT INTO "order" (id, number, channel, customer_name, customer_email, '
                "customer_postcode, customer_address, country_code, currency, language, "
                "placed_at, withdrawal_informed) VALUES (1, 'MP-1', 'marketplace', 'Ann', "
                "'a@x.example', '1011', '', 'NL', 'EUR', 'nl', '2026-10-01 10:00:00', 1)",
                "INSERT INTO shipment (id, order_id, partner_id, delivered_at) "
                "VALUES (1, 1, 1, '2026-10-03 10:00:00')",
                "INSERT INTO order_line (id, order_id, shipment_id, product_id, quantity, "
                "unit_price_minor, serial_numbers) VALUES (1, 1, 1, 1, 3, 1999, '[]')",
            ):
                connection.exec_driver_sql(statement)
        upgrade(revision="0020")
        with db.engine.begin() as connection:
            # Issued at 00:30 on 1 December in Waalwijk, still 30 November in UTC.
            connection.exec_driver_sql(
                "INSERT INTO invoice (id, sequence, number, partner_id, period_start, period_end, "
                "currency, commission_minor, credited_minor, net_minor, partner_details, "
                "issued_at, issued_by) VALUES (1, 1, 'INV-000001', 1, '2026-11-01', '2026-11-30', "
                "'EUR', 600, 0, 600, 'Old', '2026-11-30 23:30:00.000000', 'test')"
            )
        upgrade()
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT issued_on FROM invoice").scalar() == (
                "2026-12-01"
            )
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("SELECT partner_id FROM product").scalar() == 1
            row = connection.exec_driver_sql("SELECT active, currencies FROM partner").one()
            assert bool(row[0]) is True
            assert "SEK" in row[1]
            booked = connection.exec_driver_sql(
                "SELECT kind, amount_minor, rate_bp, booked_on FROM ledger_entry ORDER BY kind"
            ).all()
            assert [tuple(r) for r in booked] == [
                ("commission", -600, 1000, "2026-10-03"),
                ("sale", 5997, None, "2026-10-03"),
            ]
        db.session.remove()
        db.engine.dispose()
