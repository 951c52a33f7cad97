"""Grading photos, served only to people allowed to see the unit: warehouse staff, and partner
users for their own partner's units (another partner's photo is a 404)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app
from flask_login import login_required

from stations.auth import partner_scope
from warehouse import photos
from warehouse.db import db
from warehouse.errors import NotFound
from warehouse.i18n import gettext as _

bp = Blueprint("photos", __name__, url_prefix="/photos")


def photo_dir() -> Path:
    """Where photos are kept: `photos/` in the instance folder."""
    return Path(current_app.instance_path) / "photos"


def _send(photo_id: int, *, thumb: bool):
    photo = photos.get_photo(db.session, photo_id, partner_id=partner_scope())
    path = photos.photo_path(photo_dir(), photo, thumb=thumb)
    # Photos are re-encoded and small: read them whole rather than hold a file open.
    response = Response(path.read_bytes(), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/<int:photo_id>")
@login_required
def photo(photo_id: int):
    """A photo at full size."""
    return _send(photo_id, thumb=False)


@bp.get("/public/<token>.jpg")
def public_picture(token: str):
    """A listed unit's photo for a resale channel, by its signed link (no login)."""
    photo_id = photos.PictureLinks.from_settings(current_app.config).read(token)
    photo = photos.get_photo(db.session, photo_id)
    if not photos.is_listed(db.session, photo.unit_id):
        raise NotFound(_("no such picture"), field="picture")
    path = photos.photo_path(photo_dir(), photo, thumb=False)
    if not path.is_file():
        raise NotFound(_("no such picture"), field="picture")
    response = Response(path.read_bytes(), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/<int:photo_id>/thumb")
@login_required
def thumb(photo_id: int):
    """A photo's thumbnail."""
    return _send(photo_id, thumb=True)
