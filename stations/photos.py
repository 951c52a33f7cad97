"""Grading photos, served only to people allowed to see the unit: warehouse staff, and partner
users for their own partner's units (another partner's photo is a 404)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from flask_login import current_user, login_required

from warehouse import photos
from warehouse.db import db
from warehouse.models import Role

bp = Blueprint("photos", __name__, url_prefix="/photos")


def _partner_scope() -> int | None:
    # A partner user without a partner sees nothing rather than everything.
    return (current_user.partner_id or -1) if current_user.role == Role.PARTNER else None


def _send(photo_id: int, *, thumb: bool):
    photo = photos.get_photo(db.session, photo_id, partner_id=_partner_scope())
    from pathlib import Path

    path = photos.photo_path(Path(current_app.instance_path) / "photos", photo, thumb=thumb)
    # Photos are re-encoded and small: read them whole rather than hold a file open.
    response = Response(path.read_bytes(), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/<int:photo_id>")
@login_required
def photo(photo_id: int):
    return _send(photo_id, thumb=False)


@bp.get("/<int:photo_id>/thumb")
@login_required
def thumb(photo_id: int):
    return _send(photo_id, thumb=True)
