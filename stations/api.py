"""JSON API under /api/v1: token auth, JSON errors, and the OpenAPI document.

Endpoints live in the modules that own their stage and register on `bp`.
"""

from __future__ import annotations

import functools
import hashlib
import secrets

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import BadRequest

from stations.extensions import csrf
from warehouse.db import db
from warehouse.errors import DomainError, InvalidInput
from warehouse.models import ApiToken, Role

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256 (tokens are long random strings, no salt needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session, role: Role, partner_id: int | None = None, label: str = "") -> str:
    """Create a token row and return the plain token, which is shown once and never stored."""
    token = "ry_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            token_hash=hash_token(token),
            prefix=token[:10],
            role=role,
            partner_id=partner_id,
            label=label,
        )
    )
    return token


def token_required(*roles: Role):
    """Require `Authorization: Bearer <token>` with one of `roles` (admin always passes)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise Unauthorized("send an API token as 'Authorization: Bearer <token>'")
            row = (
                db.session.query(ApiToken)
                .filter_by(token_hash=hash_token(token.strip()), revoked_at=None)
                .one_or_none()
            )
            if row is None:
                raise Unauthorized("unknown or revoked API token")
            if row.role != Role.ADMIN and row.role not in roles:
                raise Forbidden(f"a {row.role.value} token cannot use this endpoint")
            g.api_token = row
            return view(*args, **kwargs)

        return wrapped

    return decorator


def token_partner_id() -> int | None:
    """The partner a partner token is bound to; None for marketplace-wide tokens."""
    token = g.api_token
    return token.partner_id if token.role == Role.PARTNER else None


def json_body() -> dict:
    """The request's JSON object, or a clear 400 naming what is wrong with it."""
    try:
        body = request.get_json(force=True, silent=False)
    except BadRequest:
        raise InvalidInput("the body is not valid JSON", field="body") from None
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", field="body")
    return body


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    db.session.rollback()
    return jsonify(error.as_dict()), error.status
