"""The floors the hot paths are measured against, served the way the app is (gunicorn, the same
configuration): bare Flask answering a fragment, and the two floors of this stack with a
database — one row read by its unique key with a tiny template and a session read, and the same
plus one appended row committed.

`BENCH_DATABASE_URL` names the database (the app's own, so both read the same rows).
"""

from __future__ import annotations

import datetime as dt
import os

import sqlalchemy as sa
from flask import Flask, render_template_string, request, session
from flask_sqlalchemy import SQLAlchemy

from stations import tune_engine

FRAGMENT = "<p class=scan-message>{{ code }}</p>"

metadata = sa.MetaData()
unit = sa.Table("unit", metadata, sa.Column("id", sa.Integer), sa.Column("lpn", sa.String))
written = sa.Table(
    "bench_floor_write",  # the write floor's rows
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(32)),
    sa.Column("at", sa.DateTime),
)


def bare() -> Flask:
    """Bare Flask: a fragment, nothing else."""
    app = Flask(__name__)

    @app.get("/")
    def fragment():
        return render_template_string(FRAGMENT, code=request.args.get("code", ""))

    return app


def floors() -> Flask:
    """The database floors: `/read?code=` and `/write?code=`."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="bench-floor",  # noqa: S106 - signs nothing but a throwaway session
        SQLALCHEMY_DATABASE_URI=os.environ["BENCH_DATABASE_URL"],
    )
    tune_engine(app)  # the app's own database settings (SQLite: WAL, synchronous=NORMAL)
    db = SQLAlchemy(app)  # `written` exists: `make bench` creates it before it starts these

    def look_up():
        session.get("user")  # the session read every station request makes
        code = request.args.get("code", "")
        row = db.session.execute(sa.select(unit.c.id).where(unit.c.lpn == code)).first()
        return code, row

    @app.get("/read")
    def read():
        code, row = look_up()
        return render_template_string(FRAGMENT, code=f"{code} {row[0] if row else '-'}")

    @app.get("/write")
    def write():
        code, row = look_up()
        db.session.execute(written.insert().values(code=code, at=dt.datetime.now(dt.UTC)))
        db.session.commit()
        return render_template_string(FRAGMENT, code=f"{code} {row[0] if row else '-'}")

    return app
