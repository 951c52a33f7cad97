"""Returns in the JSON API: announce a return (`POST /returns`) and read one (`GET /returns/<rma>`).

A partner token announces and reads only its own partner's returns; anything else is a 404,
exactly as if it did not exist.
"""

from __future__ import annotations

from flask import jsonify

from stations.api import bp, json_body, token_partner_id, token_required
from stations.customer import label_url
from warehouse import announcements
from warehouse.announcements import LineRequest
from warehouse.cases import refund_summary
from warehouse.db import db
from warehouse.errors import InvalidInput, NotFound
from warehouse.events import Actor
from warehouse.models import Order, ReturnRequest, Role
from warehouse.receiving import verdict_of

API_ROLES = (Role.SUPERVISOR, Role.PARTNER)


def _actor() -> Actor:
    from flask import g

    token = g.api_token
    return Actor(label=f"api:{token.prefix}", partner_id=token.partner_id)


def _line_requests(order: Order, body: dict) -> list[LineRequest]:
    raw_lines = body.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise InvalidInput("`lines` must be a non-empty list", field="lines")
    requests = []
    for index, raw in enumerate(raw_lines):
        where = f"lines[{index}]"
        if not isinstance(raw, dict):
            raise InvalidInput(f"{where} must be an object", field=where)
        line = None
        if "line_id" in raw:
            line = next((ol for ol in order.lines if ol.id == raw["line_id"]), None)
        elif "sku" in raw or "gtin" in raw:
            key, value = ("sku", raw["sku"]) if "sku" in raw else ("gtin", raw["gtin"])
            matches = [ol for ol in order.lines if getattr(ol.product, key) == str(value)]
            if len(matches) > 1:
                raise InvalidInput(
                    f"{where}: {key} {value!r} is on several lines; send `line_id`",
                    field=f"{where}.{key}",
                )
            line = matches[0] if matches else None
        else:
            raise InvalidInput(f"{where}: send `line_id`, `sku` or `gtin`", field=where)
        if line is None:
            raise NotFound(f"{where}: no such line in order {order.number}", field=where)
        quantity = raw.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise InvalidInput(f"{where}: `quantity` must be an integer", field=f"{where}.quantity")
        comment = raw.get("comment", "")
        if not isinstance(comment, str):
            raise InvalidInput(f"{where}: `comment` must be text", field=f"{where}.comment")
        requests.append(
            LineRequest(
                order_line_id=line.id,
                quantity=quantity,
                reason=announcements.parse_reason(raw.get("reason"), f"{where}.reason"),
                comment=comment,
            )
        )
    return requests


def return_json(rma: ReturnRequest) -> dict:
    """The API's view of one return: status, lines, units and the deadline verdict."""
    verdict = verdict_of(rma)
    refunds = refund_summary(db.session, rma) if rma.units else {}
    return {
        "rma": rma.rma,
        "status": rma.status.value,
        "order_number": rma.order.number,
        "partner": rma.partner.code,
        "site": rma.site.code,
        "unannounced": rma.unannounced,
        "announced_on": rma.announced_on.isoformat(),
        "received_on": rma.received_on.isoformat() if rma.received_on else None,
        "refund_due_on": rma.refund_due_on.isoformat() if rma.refund_due_on else None,
        "parcel_damaged": rma.parcel_damaged,
        "return_tracking_number": rma.return_tracking_number,
        "verdict": verdict.verdict.value,
        "label_url": label_url(rma.rma),
        "lines": [
            {
                "line_id": line.order_line_id,
                "sku": line.order_line.product.sku,
                "gtin": line.order_line.product.gtin,
                "quantity": line.quantity,
                "missing_quantity": line.missing_quantity,
                "reason": line.reason.value,
                "comment": line.comment,
            }
            for line in rma.lines
        ],
        "units": [
            {
                "lpn": unit.lpn,
                "status": unit.status.value,
                "sku": unit.product.sku if unit.product else None,
                "exception": unit.exception.value if unit.exception else None,
                "serial_number": unit.serial_number,
                "serial_mismatch": unit.serial_mismatch,
                "grade": unit.grade.value if unit.grade else None,
                "received_at": unit.received_at.isoformat(),
                "refund": refunds.get(unit.id),
            }
            for unit in rma.units
        ],
    }


@bp.post("/returns")
@token_required(*API_ROLES)
def create_return():
    """Announce a return for an order; one RMA per partner shipment."""
    body = json_body()
    number = body.get("order_number")
    if not isinstance(number, str) or not number.strip():
        raise InvalidInput("`order_number` is required", field="order_number")
    partner_id = token_partner_id()
    order = db.session.query(Order).filter_by(number=number.strip()).one_or_none()
    if order is None or (
        partner_id is not None and all(s.partner_id != partner_id for s in order.shipments)
    ):
        raise NotFound(f"no order {number!r}", field="order_number")
    comment = body.get("comment", "")
    if not isinstance(comment, str):
        raise InvalidInput("`comment` must be text", field="comment")
    done = announcements.announce(
        db.session,
        order,
        _line_requests(order, body),
        actor=_actor(),
        label_url=label_url,
        comment=comment,
        source="api",
        partner_id=partner_id,
    )
    db.session.commit()
    returns = [return_json(rma) for rma in done.returns]
    first = returns[0]
    return jsonify({"rma": first["rma"], "label_url": first["label_url"], "returns": returns}), 201


@bp.get("/returns/<rma>")
@token_required(*API_ROLES)
def get_return(rma: str):
    """One return with its status and units."""
    found = announcements.return_by_rma(db.session, rma, partner_id=token_partner_id())
    return jsonify(return_json(found))


@bp.post("/returns/<rma>/tracking")
@token_required(*API_ROLES)
def set_return_tracking(rma: str):
    """The carrier's tracking number of the return parcel (scanning it then opens the RMA)."""
    body = json_body()
    found = announcements.set_return_tracking(
        db.session,
        rma,
        body.get("tracking_number"),
        _actor(),
        partner_id=token_partner_id(),
    )
    db.session.commit()
    return jsonify(return_json(found))


# OpenAPI descriptions of the paths above (registered with stations.openapi when it exists).
_LINE = {
    "type": "object",
    "required": ["quantity", "reason"],
    "properties": {
        "line_id": {"type": "integer", "description": "Order line id (or send sku / gtin)"},
        "sku": {"type": "string"},
        "gtin": {"type": "string"},
        "quantity": {"type": "integer", "minimum": 1},
        "reason": {"type": "string", "enum": [reason.value for reason in announcements.Reason]},
        "comment": {"type": "string", "maxLength": announcements.MAX_COMMENT},
    },
}
RETURN_SCHEMA = {
    "type": "object",
    "required": ["rma", "status", "lines", "units", "label_url"],
    "properties": {
        "rma": {"type": "string", "example": "RMA-7K3QF2W"},
        "status": {"type": "string", "enum": ["announced", "received", "closed"]},
        "order_number": {"type": "string"},
        "partner": {"type": "string"},
        "site": {"type": "string"},
        "unannounced": {"type": "boolean"},
        "announced_on": {"type": "string", "format": "date"},
        "received_on": {"type": ["string", "null"], "format": "date"},
        "refund_due_on": {"type": ["string", "null"], "format": "date"},
        "parcel_damaged": {"type": "boolean"},
        "return_tracking_number": {"type": ["string", "null"]},
        "verdict": {"type": "string", "enum": ["in_time", "grace", "out_of_window", "guarantee"]},
        "label_url": {"type": "string", "format": "uri"},
        "lines": {"type": "array", "items": {"type": "object"}},
        "units": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "refund": {
                        "type": ["object", "null"],
                        "description": (
                            "The refund decision once graded: `state` open / approved / "
                            "rejected, `amount_minor` in `currency` (null while open), and the "
                            "partner `case` when one was opened"
                        ),
                    }
                },
            },
        },
    },
}
OPENAPI_PATHS = {
    ("/returns", "post"): {
        "summary": "Announce a return",
        "operationId": "createReturn",
        "description": (
            "Creates one RMA per partner shipment of the order. `rma` and `label_url` are those "
            "of the first RMA; `returns` lists all of them. Quantities above what was ordered "
            "minus what is already announced, and undelivered shipments, are refused."
        ),
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["order_number", "lines"],
                        "properties": {
                            "order_number": {"type": "string"},
                            "comment": {"type": "string"},
                            "lines": {"type": "array", "minItems": 1, "items": _LINE},
                        },
                    }
                }
            },
        },
        "responses": {
            "201": {
                "description": "Announced",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["rma", "label_url", "returns"],
                            "properties": {
                                "rma": {"type": "string"},
                                "label_url": {"type": "string", "format": "uri"},
                                "returns": {"type": "array", "items": RETURN_SCHEMA},
                            },
                        }
                    }
                },
            },
        },
        "errors": (400, 401, 403, 404),
    },
    ("/returns/<rma>/tracking", "post"): {
        "summary": "Set the tracking number of the return parcel",
        "operationId": "setReturnTracking",
        "description": (
            "For the channel or carrier: once stored, scanning the parcel's tracking number at "
            "receiving opens its RMA. Allowed while the return is announced; a number used by "
            "another return is refused (409)."
        ),
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["tracking_number"],
                        "properties": {
                            "tracking_number": {
                                "type": "string",
                                "pattern": "^[A-Za-z0-9][A-Za-z0-9-]{3,63}$",
                            }
                        },
                    }
                }
            },
        },
        "responses": {
            "200": {
                "description": "The return with its tracking number",
                "content": {"application/json": {"schema": RETURN_SCHEMA}},
            }
        },
        "errors": (400, 401, 403, 404, 409),
    },
    ("/returns/<rma>", "get"): {
        "summary": "One return with its status and units",
        "operationId": "getReturn",
        "responses": {
            "200": {
                "description": "The return",
                "content": {"application/json": {"schema": RETURN_SCHEMA}},
            }
        },
        "errors": (401, 403, 404),
    },
}


def _register_openapi() -> None:
    try:
        from stations import openapi
    except ImportError:  # the OpenAPI document is not on this branch yet
        return
    for (path, method), spec in OPENAPI_PATHS.items():
        spec = dict(spec)
        statuses = spec.pop("errors")
        spec["responses"] = {**spec["responses"], **openapi.errors(*statuses)}
        openapi.document(path, method, spec)


_register_openapi()
