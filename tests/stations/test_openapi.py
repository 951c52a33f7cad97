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
