"""Refund cases in the JSON API: partner systems list their cases and decide them with their
token. Another partner's case is a 404."""

from __future__ import annotations

from flask import jsonify, request

from stations.api import bp, json_body, token_partner_id, token_required
from warehouse import cases
from warehouse.db import db, utcnow
from warehouse.deadlines import local_date
from warehouse.errors import InvalidInput
from warehouse.events import Actor
from warehouse.models import Case, CaseStatus, Role


def _actor() -> Actor:
    from flask import g

    token = g.api_token
    return Actor(label=f"api:{token.prefix}", partner_id=token.partner_id, station="api")


@bp.get("/cases")
@token_required(Role.PARTNER)
def list_cases():
    """The token's partner's cases, newest first; `?status=open` filters."""
    query = db.session.query(Case)
    partner_id = token_partner_id()
    if partner_id is not None:
        query = query.filter(Case.partner_id == partner_id)
    status = request.args.get("status")
    if status:
        try:
            query = query.filter(Case.status == CaseStatus(status))
        except ValueError:
            raise InvalidInput(f"unknown status {status!r}", field="status") from None
    rows = query.order_by(Case.id.desc()).limit(500)
    return jsonify({"cases": [cases.case_json(case) for case in rows]})


@bp.get("/cases/<int:case_id>")
@token_required(Role.PARTNER)
def get_case(case_id: int):
    """One case."""
    return jsonify(
        cases.case_json(cases.get_case(db.session, case_id, partner_id=token_partner_id()))
    )


@bp.post("/cases/<int:case_id>/decision")
@token_required(Role.PARTNER)
def decide(case_id: int):
    """Approve, adjust (amount_minor + reason) or reject (reason) an open case."""
    partner_id = token_partner_id()
    case = cases.get_case(db.session, case_id, partner_id=partner_id)
    body = json_body()
    action = body.get("action")
    if not isinstance(action, str):
        raise InvalidInput("`action` must be approve, adjust or reject", field="action")
    amount = None
    if action == cases.Action.ADJUST:
        raw = body.get("amount_minor")
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise InvalidInput(
                "`amount_minor` must be a whole number of minor units", field="amount_minor"
            )
        amount = raw
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise InvalidInput("`reason` must be text", field="reason")
    decided = cases.decide_case(
        db.session,
        _actor(),
        case.id,
        action=action,
        amount_minor=amount,
        reason=reason,
        via="api",
        partner_id=partner_id,
        today=local_date(utcnow(), case.unit.site.timezone),
    )
    db.session.commit()
    return jsonify(cases.case_json(decided))


_CASE = {
    "type": "object",
    "required": ["id", "status", "currency", "original_minor", "proposed_minor"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": [status.value for status in CaseStatus]},
        "unit_lpn": {"type": "string"},
        "rma": {"type": "string"},
        "grounds": {"type": "array", "items": {"type": "string"}},
        "currency": {"type": "string", "example": "EUR"},
        "original_minor": {"type": "integer", "description": "Price paid, minor units"},
        "proposed_minor": {"type": "integer"},
        "approved_minor": {"type": ["integer", "null"]},
        "reason": {"type": ["string", "null"]},
        "refund_due_on": {"type": "string", "format": "date"},
        "opened_at": {"type": "string", "format": "date-time"},
        "decided_at": {"type": ["string", "null"], "format": "date-time"},
        "decided_via": {"type": ["string", "null"], "enum": ["link", "portal", "api", None]},
    },
}


def _register_openapi() -> None:
    from stations import openapi

    case_ref = openapi.schema("RefundCase", _CASE)
    openapi.document(
        "/cases",
        "get",
        {
            "summary": "The partner's refund cases",
            "operationId": "listCases",
            "parameters": [
                {
                    "name": "status",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": [s.value for s in CaseStatus]},
                }
            ],
            "responses": {
                "200": openapi.json_response(
                    "Cases",
                    {
                        "type": "object",
                        "properties": {"cases": {"type": "array", "items": case_ref}},
                    },
                ),
                **openapi.errors(400, 401, 403),
            },
        },
    )
    openapi.document(
        "/cases/<int:case_id>",
        "get",
        {
            "summary": "One refund case",
            "operationId": "getCase",
            "responses": {
                "200": openapi.json_response("The case", case_ref),
                **openapi.errors(401, 403, 404),
            },
        },
    )
    openapi.document(
        "/cases/<int:case_id>/decision",
        "post",
        {
            "summary": "Decide a refund case",
            "operationId": "decideCase",
            "description": (
                "`approve` refunds the proposed amount; `adjust` refunds `amount_minor` "
                "(0 up to the price paid) and needs a `reason`; `reject` refunds nothing and "
                "needs a `reason`. "
                "The customer is emailed the outcome with the reason. A decided case answers 409."
            ),
            "requestBody": openapi.json_request(
                {
                    "type": "object",
                    "required": ["action"],
                    "properties": {
                        "action": {"type": "string", "enum": ["approve", "adjust", "reject"]},
                        "amount_minor": {"type": "integer", "minimum": 0},
                        "reason": {"type": "string", "maxLength": cases.REASON_MAX},
                    },
                }
            ),
            "responses": {
                "200": openapi.json_response("The decided case", case_ref),
                **openapi.errors(400, 401, 403, 404, 409),
            },
        },
    )


_register_openapi()
