"""The catalogue (admins): upload a products CSV, watch its import run in the background (the
progress bar follows it), read what it refused by row and column."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from stations.auth import current_actor, roles_required
from warehouse import catalogue
from warehouse.db import db
from warehouse.errors import NotFound
from warehouse.i18n import gettext as _
from warehouse.models import Partner, ProductImport, Role

bp = Blueprint("catalogue", __name__, url_prefix="/admin/catalogue")
MAX_UPLOAD = 64 * 1024 * 1024  # a 200 000-row catalogue is well under this


def _page(problem: str | None = None, status: int = 200):
    return render_template(
        "admin/catalogue.html",
        imports=list(
            db.session.scalars(sa.select(ProductImport).order_by(ProductImport.id.desc()).limit(20))
        ),
        partners=list(db.session.scalars(sa.select(Partner).order_by(Partner.code))),
        columns=catalogue.COLUMNS,
        required=catalogue.REQUIRED,
        max_rows=catalogue.MAX_ROWS,
        problem=problem,
    ), status


@bp.get("")
@roles_required(Role.ADMIN)
def index():
    """The upload form and the latest imports."""
    return _page()


@bp.post("")
@roles_required(Role.ADMIN)
def upload():
    """Store the file and queue its import."""
    request.max_content_length = MAX_UPLOAD  # a catalogue is larger than the app's other uploads
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(_("choose a CSV file to import"), 400)
    data = upload.stream.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return _page(
            _("the file is larger than %(size)s MB; split it", size=MAX_UPLOAD // 1024 // 1024), 400
        )
    if not data.strip():
        return _page(_("the file is empty"), 400)
    code = (request.form.get("partner") or "").strip().upper()
    partner = None
    if code:
        partner = db.session.scalar(sa.select(Partner).where(Partner.code == code))
        if partner is None:
            return _page(_("no partner with code %(code)s", code=repr(code)), 400)
    actor = current_actor("admin")
    row = catalogue.new_import(db.session, actor, filename=upload.filename, partner=partner)
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / row.stored_name).write_bytes(data)
    catalogue.queue_import(db.session, actor, row)
    db.session.commit()
    flash(_("%(file)s is being imported.", file=upload.filename), "ok")
    return redirect(url_for("catalogue.show", import_id=row.id), 303)


def _import(import_id: int) -> ProductImport:
    row = db.session.get(ProductImport, import_id)
    if row is None:
        raise NotFound(_("no import #%(id)s", id=import_id), field="import")
    return row


@bp.get("/imports/<int:import_id>")
@roles_required(Role.ADMIN)
def show(import_id: int):
    """One import: its progress (refreshed while it runs) and what it refused."""
    row = _import(import_id)
    template = "admin/_import.html" if request.headers.get("HX-Request") else "admin/import.html"
    return render_template(template, row=row, elapsed=catalogue.elapsed(row))
