"""The resale export screen: download small exports at once, run large ones in the background.

A small export streams straight into the response. One above the configured threshold
(`RESALE_EXPORT_BACKGROUND_ROWS`) becomes an `Export` row and a job through the outbox; its
page polls a progress region every half second until the file is ready to download.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)

from stations.auth import current_actor, partner_scope, roles_required
from stations.extensions import htmx
from stations.htmx import file_response
from stations.nav import register
from warehouse import channels, exports
from warehouse.db import db
from warehouse.errors import DomainError, InvalidInput
from warehouse.i18n import gettext as _
from warehouse.i18n import lazy_gettext as _l
from warehouse.models import Export, ExportStatus, Role
from warehouse.photos import PictureLinks
from warehouse.reference import LANGUAGES

bp = Blueprint("exports", __name__, url_prefix="/exports")
register(
    _l("Resale exports"),
    "exports.index",
    {Role.SUPERVISOR, Role.PARTNER},
    _l("eBay CSV, generic CSV and JSON feeds of units listed for resale"),
    order=80,
)


def threshold() -> int:
    """Exports with more rows than this run in the background."""
    return current_app.config["RESALE_EXPORT_BACKGROUND_ROWS"]


def export_directory() -> Path:
    return Path(current_app.instance_path) / "exports"


def _recent():
    query = db.session.query(Export).order_by(Export.id.desc())
    if partner_scope() is not None:
        query = query.filter(Export.partner_id == partner_scope())
    return query.limit(10).all()


def _page(form, error=None, status=200):
    return (
        render_template(
            "exports/index.html",
            form=form,
            error=error,
            formats=exports.FORMATS,
            languages=("", *LANGUAGES),
            recent=_recent(),
            threshold=threshold(),
            channels=channels.all_channels(db.session),
        ),
        status,
    )


@bp.get("/")
@roles_required(Role.SUPERVISOR, Role.PARTNER)
def index():
    resale = channels.resale_channel(db.session)
    return _page({"format": "ebay", "channel": resale, "language": ""})[0]


@bp.post("/")
@roles_required(Role.SUPERVISOR, Role.PARTNER)
def start():
    """Download now (small) or start a background export (large)."""
    form = {name: request.form.get(name, "").strip() for name in ("format", "channel", "language")}
    try:
        fmt = exports.check_format(form["format"])
        if not form["channel"]:
            raise InvalidInput(_("Name the sales channel, e.g. ebay."), field="channel")
        if form["language"] and form["language"] not in LANGUAGES:
            raise InvalidInput(
                _("Choose one of %(languages)s.", languages=", ".join(LANGUAGES)), field="language"
            )
        selection = exports.Selection(form["channel"], partner_scope(), form["language"] or None)
        total = exports.require_listings(db.session, selection)
        if total > threshold():
            export = exports.request_background(
                db.session, fmt, selection, total, current_actor("exports")
            )
            db.session.commit()
            return redirect(url_for("exports.show", export_id=export.id), 303)
    except DomainError as error:
        db.session.rollback()
        return _page(form, error, 422)
    chunks = exports.stream(
        fmt,
        selection,
        exports.rows(
            db.session,
            selection,
            public_url=current_app.config["PUBLIC_URL"],
            pictures=PictureLinks.from_settings(current_app.config),
        ),
    )
    return file_response(
        stream_with_context(chunks), exports.MEDIA_TYPES[fmt], exports.filename(fmt, selection)
    )


def _export(export_id: int) -> Export:
    return exports.get_export(db.session, export_id, partner_id=partner_scope())


@bp.get("/<int:export_id>")
@roles_required(Role.SUPERVISOR, Role.PARTNER)
def show(export_id: int):
    """An export's page: progress while it runs, the download when done."""
    export = _export(export_id)
    if htmx:
        return render_template("exports/_progress.html", export=export)
    return render_template("exports/show.html", export=export)


@bp.get("/<int:export_id>/download")
@roles_required(Role.SUPERVISOR, Role.PARTNER)
def download(export_id: int):
    export = _export(export_id)
    if export.status != ExportStatus.DONE or not export.file_path:
        abort(404)
    path = Path(export.file_path)
    if not path.is_file() or export_directory().resolve() not in path.resolve().parents:
        abort(404)
    return send_file(
        path,
        mimetype=exports.MEDIA_TYPES[export.format],
        as_attachment=True,
        download_name=path.name,
    )
