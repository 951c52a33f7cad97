"""The /api/v1 blueprint: token auth, the calling token as the events' actor, JSON errors.

Resource modules (`orders`, `returns`, `cases`, ...) add their routes to `bp`; the package's
`__init__` imports them all before the blueprint is registered.
"""

from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import BaseModel

from stations.extensions import csrf
from warehouse.accounts import token_by_secret, token_use_stale
from warehouse.db import db, utcnow
from warehouse.errors import DomainError
from warehouse.events import Actor
from warehouse.models import ApiToken, Role

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


class Unauthorized(DomainError):
    """No token, or one we do not know (or revoked)."""

    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    """A token whose role may not use the endpoint."""

    status = 403
    code = "forbidden"


def token_required(*roles: Role):
    """Require `Authorization: Bearer <token>` with one of `roles` (admin always passes)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("send an API token as 'Authorization: Bearer <token>'")
            row = token_by_secret(db.session, token)
            if row is None:
                raise Unauthorized("unknown or revoked API token")
            if row.role != Role.ADMIN and row.role not in roles:
                raise Forbidden(f"a {row.role.value} token cannot use this endpoint")
            g.api_token = row
            now = utcnow()
            stale = token_use_stale(row, now)
            token_id = row.id
            response = view(*args, **kwargs)
            if stale:
                # After the answer is built, at most once an hour per token; a failure here
                # (a locked database) must not turn a request that succeeded into an error.
                try:
                    db.session.execute(
                        sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
                    )
                    db.session.commit()
                except sa.exc.SQLAlchemyError:
                    db.session.rollback()
                    current_app.logger.warning("could not note the use of token #%s", token_id)
            return response

        return wrapped

    return decorator


def answer(model: BaseModel, status: int = 200) -> Response:
    """A typed answer as JSON: dates and instants in ISO 8601, enums by their value."""
    response = jsonify(model.model_dump(mode="json"))
    response.status_code = status
    return response


def api_actor() -> Actor:
    """The calling token as the events' actor."""
    token = g.api_token
    return Actor(label=f"api:{token.prefix}…", partner_id=token.partner_id, station="api")


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError):
    db.session.rollback()
    return jsonify(error.as_dict()), error.status
