"""The OpenAPI document stays true: every API route documented, every documented path served."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from stations.api.openapi import openapi_path

IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def served_operations(app) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path, _params = openapi_path(rule.rule)
        for method in rule.methods - IGNORED_METHODS:
            operations.add((path, method.lower()))
    return operations


def test_every_api_route_is_documented_and_every_documented_path_is_served(app, document):
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    served = served_operations(app)
    assert served - documented == set(), "API routes missing from the OpenAPI document"
    assert documented - served == set(), "documented operations that no route serves"
    assert ("/orders", "post") in served


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1.")
    assert document["servers"] == [{"url": "/api/v1"}]
    validate(document)  # raises on any schema violation or unresolvable $ref


def test_path_parameters_are_declared(document):
    for path, item in document["paths"].items():
        names = {segment[1:-1] for segment in path.split("/") if segment.startswith("{")}
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, f"{method.upper()} {path}"
    tracking = document["paths"]["/shipments/{shipment_id}/tracking"]["post"]
    assert tracking["parameters"][0]["schema"] == {"type": "integer"}


def test_the_document_needs_no_token(client):
    assert client.get("/api/v1/openapi.json").status_code == 200


def _untyped(schema, where: str, found: list[str]) -> None:
    """Collect every object schema without properties (or $ref) and every array without items."""
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "object" and not (
        schema.get("properties") or schema.get("additionalProperties") not in (None, False)
    ):
        found.append(where)
    if schema.get("type") == "array" and "items" not in schema:
        found.append(where)
    for key, value in schema.items():
        if isinstance(value, dict):
            _untyped(value, f"{where}.{key}", found)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                _untyped(item, f"{where}.{key}[{index}]", found)


def test_every_response_and_request_schema_is_typed(document):
    found: list[str] = []
    for name, schema in document["components"]["schemas"].items():
        if name == "Document":  # the OpenAPI document's own schema is OpenAPI's
            continue
        _untyped(schema, name, found)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                for media, content in response.get("content", {}).items():
                    schema = content["schema"]
                    where = f"{method.upper()} {path} {status} {media}"
                    assert "$ref" in schema or media != "application/json", where
    assert found == [], f"untyped objects or arrays: {found}"


def test_the_gtin_rule_of_the_document_is_the_one_the_api_applies(client, document):
    import re

    pattern = document["components"]["schemas"]["OrderLineIn"]["properties"]["gtin"]["anyOf"][0]
    rule = re.compile(pattern["pattern"])
    assert [bool(rule.match(g)) for g in ("12345678", "123456789", "4006381333931")] == [
        True,
        False,
        True,
    ]


def test_the_listing_feed_model_documents_every_exported_column():
    from stations.api.resale_listings import ListingItem
    from warehouse import exports

    assert set(ListingItem.model_fields) == set(exports.GENERIC_COLUMNS)


def test_enums_in_the_document_come_from_the_domain(document):
    from warehouse.models import Grade, Reason
    from warehouse.money import MINOR_DIGITS
    from warehouse.reference import COUNTRIES, LANGUAGES

    schemas = document["components"]["schemas"]
    assert schemas["Reason"]["enum"] == [reason.value for reason in Reason]
    assert schemas["Grade"]["enum"] == [grade.value for grade in Grade]
    assert schemas["Currency"]["enum"] == list(MINOR_DIGITS)
    assert schemas["CountryCode"]["enum"] == [country.code for country in COUNTRIES]
    assert schemas["Language"]["enum"] == list(LANGUAGES)
