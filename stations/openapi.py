"""The OpenAPI 3.1 document of the JSON API, served at `/api/v1/openapi.json`.

Each API module documents its own endpoints next to their views, at import time:

    openapi.document("/returns/<rma>", "get", {
        "summary": "One return and its units",
        "responses": {"200": openapi.json_response("The return", openapi.ref("Return")),
                      **openapi.errors(401, 403, 404)},
    })

`document` takes the Flask rule (`/returns/<rma>`, `/api/v1/shipments/<int:shipment_id>/…`) or
the OpenAPI path (`/returns/{rma}`); path parameters are filled in from the rule when the spec
does not list them. `schema(name, spec)` adds a reusable component. A test checks that every
`/api/v1/` rule of the app is documented and every documented path is served.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import jsonify

from stations.api import bp

PREFIX = "/api/v1"
VERSION = "1.0.0"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

_OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {}
_PARAMETERS: dict[str, list[dict[str, Any]]] = {}
_SCHEMAS: dict[str, dict[str, Any]] = {}

_RULE_PARAM = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\([^)]*\))?:)?(?P<name>[A-Za-z_]\w*)>")
_TYPES = {"int": {"type": "integer"}, "float": {"type": "number"}}

_STATUS_TEXT = {
    400: "Bad input: the body or a parameter is malformed; `field` names it",
    401: "No API token, or an unknown or revoked one",
    403: "This token's role may not use this endpoint",
    404: "Nothing by that id (another partner's records look the same)",
    409: "Conflicts with what is stored; `field` names the value at fault",
    422: "Well-formed but refused by a business rule",
}


def openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """The OpenAPI path under /api/v1 for a Flask rule, and the path parameters it declares."""
    if rule.startswith(PREFIX):
        rule = rule[len(PREFIX) :] or "/"
    parameters = []
    for match in _RULE_PARAM.finditer(rule):
        parameters.append(
            {
                "name": match["name"],
                "in": "path",
                "required": True,
                "schema": dict(_TYPES.get(match["converter"] or "", {"type": "string"})),
            }
        )
    for match in re.finditer(r"\{(\w+)\}", rule):
        parameters.append(
            {"name": match[1], "in": "path", "required": True, "schema": {"type": "string"}}
        )
    return _RULE_PARAM.sub(lambda m: "{" + m["name"] + "}", rule), parameters


def document(path: str, method: str, spec: dict[str, Any]) -> None:
    """Add the operation `method path` (an OpenAPI Operation Object) to the document."""
    method = method.lower()
    if method not in METHODS:
        raise ValueError(f"{method!r} is not an HTTP method")
    if "responses" not in spec:
        raise ValueError(f"{method.upper()} {path}: an operation needs its responses")
    key, parameters = openapi_path(path)
    operations = _OPERATIONS.setdefault(key, {})
    if method in operations and operations[method] != spec:
        raise ValueError(f"{method.upper()} {key} is documented twice")
    operations[method] = spec
    if parameters:
        _PARAMETERS[key] = parameters


def schema(name: str, spec: dict[str, Any]) -> dict[str, str]:
    """Add a reusable schema under components/schemas and return a `$ref` to it."""
    if name in _SCHEMAS and _SCHEMAS[name] != spec:
        raise ValueError(f"schema {name!r} is defined twice")
    _SCHEMAS[name] = spec
    return ref(name)


def ref(name: str) -> dict[str, str]:
    """A `$ref` to the component schema `name`."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(description: str, body: dict[str, Any]) -> dict[str, Any]:
    """A Response Object with a JSON body of schema `body`."""
    return {"description": description, "content": {"application/json": {"schema": body}}}


def json_request(body: dict[str, Any], description: str = "") -> dict[str, Any]:
    """A required Request Body Object with a JSON body of schema `body`."""
    request = {"required": True, "content": {"application/json": {"schema": body}}}
    if description:
        request["description"] = description
    return request


def errors(*statuses: int) -> dict[str, dict[str, Any]]:
    """The standard JSON error responses for `statuses`, ready to merge into `responses`."""
    return {
        str(status): json_response(_STATUS_TEXT.get(status, "Refused"), ref("Error"))
        for status in statuses
    }


schema(
    "Error",
    {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "A machine code, e.g. invalid_input"},
            "message": {"type": "string", "description": "What is wrong, for a person"},
            "field": {
                "type": "string",
                "description": "The input at fault, e.g. `lines[2].sku` or `number`",
            },
        },
    },
)


def openapi_document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document, built from every module's registrations."""
    paths: dict[str, dict[str, Any]] = {}
    for path in sorted(_OPERATIONS):
        item: dict[str, Any] = {}
        for method in METHODS:
            if method not in _OPERATIONS[path]:
                continue
            operation = copy.deepcopy(_OPERATIONS[path][method])
            declared = {(p.get("name"), p.get("in")) for p in operation.get("parameters", [])}
            missing = [p for p in _PARAMETERS.get(path, []) if (p["name"], "path") not in declared]
            if missing:
                operation["parameters"] = copy.deepcopy(missing) + operation.get("parameters", [])
            item[method] = operation
        paths[path] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Returnyard API",
            "version": VERSION,
            "description": (
                "Orders in (split per partner), shipment tracking, returns, partner decisions "
                "and exports. Send `Authorization: Bearer <token>` (create one with "
                "`flask --app wsgi create-token ROLE [--partner CODE]`). A partner token sees "
                "only its own partner's data. Money is an integer number of minor units "
                "(cents, pence, øre, öre) next to its ISO currency code."
            ),
        },
        "servers": [{"url": PREFIX}],
        "security": [{"bearerToken": []}],
        "paths": paths,
        "components": {
            "schemas": copy.deepcopy(_SCHEMAS),
            "securitySchemes": {"bearerToken": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    """The API's OpenAPI document (no token needed)."""
    return jsonify(openapi_document())


document(
    "/openapi.json",
    "get",
    {
        "summary": "This OpenAPI document",
        "operationId": "getOpenApi",
        "security": [],
        "responses": {
            "200": json_response("The OpenAPI 3.1 document of the API", {"type": "object"})
        },
    },
)
