"""The API's contract, written once: typed request / response models per operation.

Every view of the API declares its operation with `@operation(...)`: a summary, the model of its
request body (and of its query string), the model of each success answer and the error statuses
it can give. The same declaration validates the request (a refusal is our usual JSON error naming
the field) and writes the OpenAPI 3.1 document served at `/api/v1/openapi.json`, built from the
app's own URL map, so a served route cannot go undocumented.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, jsonify, request
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from stations.api.blueprint import bp
from warehouse.validation import validated

PREFIX = "/api/v1"
VERSION = "1.0.0"
REF_TEMPLATE = "#/components/schemas/{model}"

_RULE_PARAM = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\([^)]*\))?:)?(?P<name>[A-Za-z_]\w*)>")
_TYPES = {"int": {"type": "integer"}, "float": {"type": "number"}}

STATUS_TEXT = {
    400: "Bad input: the body or a parameter is malformed; `field` names it",
    401: "No API token, or an unknown or revoked one",
    403: "This token's role may not use this endpoint",
    404: "Nothing by that id (another partner's records look the same)",
    409: "Conflicts with what is stored; `field` names the value at fault",
    422: "Well-formed but refused by a business rule",
}


class Error(BaseModel):
    """Every refusal: a machine code, a sentence for a person, and the input at fault."""

    error: str
    message: str
    field: str | None = None


@dataclass(frozen=True)
class Answer:
    """One success answer: its description and body (a model, or a raw schema for files)."""

    description: str
    model: type[BaseModel] | None = None
    content: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """What `@operation` records about a view."""

    summary: str
    operation_id: str
    answers: dict[int, Answer]
    errors: tuple[int, ...] = ()
    description: str = ""
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    public: bool = False


def operation(
    summary: str,
    *,
    operation_id: str,
    answers: dict[int, Answer],
    errors: tuple[int, ...] = (),
    description: str = "",
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    public: bool = False,
) -> Callable:
    """Declare a view's operation; the view gets `body=` / `query=` as checked models."""
    spec = Operation(summary, operation_id, answers, errors, description, body, query, public)

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if spec.query is not None:
                kwargs["query"] = validated(spec.query, request.args.to_dict())
            if spec.body is not None:
                kwargs["body"] = validated(spec.body, request.get_data(cache=True))
            return view(*args, **kwargs)

        wrapped.openapi = spec
        return wrapped

    return decorator


def openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """The OpenAPI path under /api/v1 for a Flask rule, and the path parameters it declares."""
    if rule.startswith(PREFIX):
        rule = rule[len(PREFIX) :] or "/"
    parameters = [
        {
            "name": match["name"],
            "in": "path",
            "required": True,
            "schema": dict(_TYPES.get(match["converter"] or "", {"type": "string"})),
        }
        for match in _RULE_PARAM.finditer(rule)
    ]
    return _RULE_PARAM.sub(lambda m: "{" + m["name"] + "}", rule), parameters


def _operations(app) -> list[tuple[str, str, list[dict[str, Any]], Operation]]:
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        spec = getattr(app.view_functions[rule.endpoint], "openapi", None)
        if spec is None:
            raise LookupError(f"{rule.rule} has no @operation: document it")
        path, parameters = openapi_path(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((path, method.lower(), parameters, spec))
    return found


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    schemas.update(schema.pop("$defs", {}))
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema["properties"].items():
        parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            parameter["description"] = prop["description"]
        parameters.append(parameter)
    return parameters


def _content(model: type[BaseModel], refs: dict) -> dict[str, Any]:
    return {"application/json": {"schema": refs[(model, "serialization")]}}


def openapi_document(app) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document of `app`'s API routes, from their `@operation`s."""
    operations = _operations(app)
    models: set[tuple[type[BaseModel], str]] = {(Error, "serialization")}
    for _path, _method, _params, spec in operations:
        if spec.body is not None:
            models.add((spec.body, "validation"))
        models |= {(a.model, "serialization") for a in spec.answers.values() if a.model}
    ordered = sorted(models, key=lambda item: (item[0].__name__, item[1]))
    refs, top = models_json_schema(ordered, ref_template=REF_TEMPLATE)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))

    paths: dict[str, dict[str, Any]] = {}
    for path, method, path_parameters, spec in operations:
        item: dict[str, Any] = {"summary": spec.summary, "operationId": spec.operation_id}
        if spec.description:
            item["description"] = spec.description
        parameters = list(path_parameters)
        if spec.query is not None:
            parameters += _query_parameters(spec.query, schemas)
        if parameters:
            item["parameters"] = parameters
        if spec.body is not None:
            item["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(spec.body, "validation")]}},
            }
        responses: dict[str, Any] = {}
        for status, answer in sorted(spec.answers.items()):
            content = dict(answer.content)
            if answer.model is not None:
                content = {**_content(answer.model, refs), **content}
            responses[str(status)] = {"description": answer.description, "content": content}
        for status in spec.errors:
            responses[str(status)] = {
                "description": STATUS_TEXT.get(status, "Refused"),
                "content": _content(Error, refs),
            }
        item["responses"] = responses
        if spec.public:
            item["security"] = []
        paths.setdefault(path, {})[method] = item

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
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearerToken": {"type": "http", "scheme": "bearer"}},
        },
    }


class Document(BaseModel):
    """An OpenAPI 3.1 document (its own schema is OpenAPI's, not repeated here)."""

    openapi: str


@bp.get("/openapi.json")
@operation(
    "This OpenAPI document",
    operation_id="getOpenApi",
    answers={200: Answer("The OpenAPI 3.1 document of the API", Document)},
    public=True,
)
def openapi_json():
    """The API's OpenAPI document (no token needed)."""
    return jsonify(openapi_document(current_app))
