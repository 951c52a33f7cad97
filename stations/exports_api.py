"""`GET /api/v1/resale-listings`: the resale export for channels and partners, streamed."""

from __future__ import annotations

from flask import current_app, request, stream_with_context

from stations.api import bp, token_partner_id, token_required
from stations.downloads import file_response
from warehouse import exports
from warehouse.db import db
from warehouse.errors import InvalidInput
from warehouse.models import Role

LANGUAGES = ("en", "nl", "de", "fr")


@bp.get("/resale-listings")
@token_required(Role.SUPERVISOR, Role.PARTNER)
def resale_listings():
    """Listed units of a channel as JSON feed, generic CSV or eBay CSV (a partner: its own)."""
    fmt = exports.check_format(request.args.get("format", "json"))
    channel = request.args.get("channel", "ebay").strip()
    if not channel:
        raise InvalidInput("Name the sales channel, e.g. ebay.", field="channel")
    language = request.args.get("language") or None
    if language is not None and language not in LANGUAGES:
        raise InvalidInput("language is one of en, nl, de, fr.", field="language")
    selection = exports.Selection(channel, token_partner_id(), language)
    exports.require_listings(db.session, selection)
    items = exports.rows(db.session, selection, public_url=current_app.config["PUBLIC_URL"])
    return file_response(
        stream_with_context(exports.stream(fmt, selection, items)),
        exports.MEDIA_TYPES[fmt],
        exports.filename(fmt, selection),
    )


def _register_openapi() -> None:
    from stations import openapi

    item = {
        "type": "object",
        "properties": {name: {"type": "string"} for name in exports.GENERIC_COLUMNS}
        | {"condition_id": {"type": "integer"}},
    }
    openapi.document(
        "/resale-listings",
        "get",
        {
            "summary": "Units listed for discounted resale, streamed (JSON feed, CSV, eBay CSV)",
            "operationId": "getResaleListings",
            "parameters": [
                {
                    "name": "format",
                    "in": "query",
                    "schema": {"type": "string", "enum": list(exports.FORMATS), "default": "json"},
                },
                {"name": "channel", "in": "query", "schema": {"type": "string", "default": "ebay"}},
                {
                    "name": "language",
                    "in": "query",
                    "schema": {"type": "string", "enum": list(LANGUAGES)},
                    "description": "Condition descriptions in this language (default: as listed)",
                },
            ],
            "responses": {
                "200": {
                    "description": "The listings; a partner token gets its own partner's only",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "channel": {"type": "string"},
                                    "generated_at": {"type": "string", "format": "date-time"},
                                    "items": {"type": "array", "items": item},
                                },
                            }
                        },
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                **openapi.errors(400, 401, 403),
            },
        },
    )


_register_openapi()
