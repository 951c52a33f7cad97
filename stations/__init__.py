"""Returnyard's web side: the app factory. Screens, the JSON API and the CLI live in their own
packages (`stations.screens`, `stations.api`, `stations.cli`); the domain is `warehouse`."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask
from flask_login import current_user

from labels.svg import code128_svg
from stations import (
    api,
    auth,
    cli,
    config,
    errors,
    health,
    languages,
    nav,
    params,
    screens,
    security,
)
from stations.extensions import csrf, htmx, login, migrate
from warehouse import espr, i18n, receiving
from warehouse.db import WRITE_TURNS, db
from warehouse.deadlines import local_date
from warehouse.printing import site_printers

ROOT = config.ROOT


def _local_time(instant, timezone: str) -> str:
    """An instant as the site's wall clock reads it, with its zone: 2026-12-01 14:05 CET."""
    if instant is None:
        return ""
    return instant.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def _local_day(instant, timezone: str):
    """An instant's calendar day at the site (2026-12-01), not the UTC day it fell on."""
    if instant is None:
        return ""
    return local_date(instant, timezone)


def create_app(settings: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings from the environment, overridden by `settings`, then extensions."""
    values = config.from_environment()
    values.update(settings or {})
    instance = Path(values["INSTANCE_PATH"])
    instance.mkdir(parents=True, exist_ok=True)
    app = Flask(
        __name__,
        instance_path=str(instance),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(values)
    espr.configure(app.config["ESPR_ENTERPRISE_SIZE"])  # the domain judges the ban by it
    _compile_catalogs()
    params.init_app(app)  # before any route is added: `<int:…>` is a bounded id
    tune_engine(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    htmx.init_app(app)
    login.init_app(app)

    auth.init_app(app)
    languages.init_app(app)  # after auth: the user's language is known
    csrf.init_app(app)  # after the language: its refusal is in the reader's language
    security.init_app(app)
    errors.init_app(app)
    health.init_app(app)
    cli.init_app(app)
    screens.init_app(app)
    app.register_blueprint(api.bp)
    app.jinja_env.filters["urlencode_page"] = _with_page
    app.jinja_env.filters["local_time"] = _local_time
    app.jinja_env.filters["local_day"] = _local_day
    app.jinja_env.globals["nav_items"] = nav.nav_items
    app.jinja_env.globals["barcode_svg"] = code128_svg
    # A unit's deadline verdict (with the guarantee that applied), for the case pages.
    app.jinja_env.globals["assessment_for"] = receiving.assessment_for
    app.jinja_env.globals["station_printers"] = _station_printers
    return app


def _compile_catalogs() -> None:
    """Compile a language's .po whose .mo is missing or stale (what `make` does), so an app
    installed without `make` does not answer everything in English; a read-only install with
    its .mo files built is left as it is."""
    with contextlib.suppress(OSError):
        i18n.compile_catalogs()


SQLITE_BUSY_SECONDS = 15


def tune_engine(app: Flask) -> None:
    """SQLite: WAL, foreign keys and a busy timeout, so the web and the worker can share a file,
    and writers taking turns (`warehouse.db.WriteTurns`); the benchmark floors take the same."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_SECONDS)
        if not sa.event.contains(sa.engine.Engine, "connect", _sqlite_pragmas):
            sa.event.listen(sa.engine.Engine, "connect", _sqlite_pragmas)
        WRITE_TURNS.install(SQLITE_BUSY_SECONDS)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _with_page(args, page: int) -> str:
    """The query string of `args` with `page` set (for a list's pager links)."""
    values = [(name, value) for name, value in args.items(multi=True) if name != "page"]
    return urlencode([*values, ("page", str(page))])


def _station_printers():
    """The printers of the logged-in user's site, for the station's printer choice."""
    return site_printers(db.session, current_user.site_id) if current_user.is_authenticated else []
