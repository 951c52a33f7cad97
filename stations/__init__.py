"""Returnyard's web side: the app factory, station screens, portal, customer pages and API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask

from stations import config as config_module
from stations.extensions import csrf, htmx, login, migrate
from warehouse.db import db

ROOT = config_module.ROOT


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment, overridden by `config`, then extensions."""
    settings = config_module.from_environment()
    settings.update(config or {})
    instance = Path(settings["INSTANCE_PATH"])
    instance.mkdir(parents=True, exist_ok=True)
    app = Flask(
        __name__,
        instance_path=str(instance),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(settings)
    _tune_engine(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    htmx.init_app(app)
    csrf.init_app(app)
    login.init_app(app)

    from stations import auth, cli, errors, health

    auth.init_app(app)
    errors.init_app(app)
    health.init_app(app)
    cli.init_app(app)
    _register_blueprints(app)
    _template_helpers(app)
    return app


def _tune_engine(app: Flask) -> None:
    """SQLite: WAL, foreign keys and a busy timeout, so the web and the worker can share a file."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("connect_args", {}).setdefault("timeout", 15)
        if not sa.event.contains(sa.engine.Engine, "connect", _sqlite_pragmas):
            sa.event.listen(sa.engine.Engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _register_blueprints(app: Flask) -> None:
    # API modules add their routes (and OpenAPI entries) to `api.bp` when imported, so they
    # are all imported here, before the blueprint is registered.
    from stations import (  # noqa: F401
        api,
        batches,
        caselinks,
        cases,
        cases_api,
        customer,
        exports,
        exports_api,
        grade,
        home,
        jobs,
        mailbox,
        openapi,
        orders_api,
        photos,
        portal,
        receive,
        returns_api,
        route,
        rules,
    )

    app.register_blueprint(home.bp)
    app.register_blueprint(customer.bp)
    app.register_blueprint(receive.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(grade.bp)
    app.register_blueprint(photos.bp)
    app.register_blueprint(route.bp)
    app.register_blueprint(rules.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(caselinks.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(batches.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(mailbox.bp)


def _template_helpers(app: Flask) -> None:
    from stations.nav import nav_items
    from warehouse.money import format_minor

    app.jinja_env.filters["money"] = format_minor
    app.jinja_env.globals["nav_items"] = nav_items
