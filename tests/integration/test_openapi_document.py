"""The OpenAPI document says what the API does: per-route bodies, every status, one error shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.api import create_app
from hub.api.filters import TIME_PATTERN
from hub.runtime import Hub
from tests.configs import ROOT, demo_config, write_config
from tests.peers import serve_app

ERROR = {"$ref": "#/components/schemas/ErrorBody"}
ROUTES = {
    "shop-orders",
    "stock-xml",
    "supplier-orders",
    "x12-orders",
    "price-list",
    "notes",
    "anything",
}


def _config(tmp: Path) -> dict[str, Any]:
    """The demo route and one route per other input format, one JSON route with a schema
    that names itself by its $id, one without a schema."""
    config = demo_config(tmp)
    outbox = [{"name": "out", "type": "file", "options": {"directory": str(tmp / "out")}}]
    (tmp / "note.schema.json").write_text(
        json.dumps(
            {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": "https://example.com/note.schema.json",
                "type": "object",
                "properties": {
                    "text": {"$ref": "https://example.com/note.schema.json#/$defs/line"},
                    "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}},
                },
                "$defs": {"line": {"type": "string", "maxLength": 80}},
            }
        ),
        encoding="utf-8",
    )
    config["routes"].update(
        {
            "stock-xml": {"input": {"format": "xml"}, "sinks": outbox},
            "supplier-orders": {"input": {"format": "edifact"}, "split": True, "sinks": outbox},
            "x12-orders": {"input": {"format": "x12"}, "sinks": outbox},
            "price-list": {"input": {"format": "csv"}, "sinks": outbox},
            "notes": {
                "input": {"format": "json", "schema": str(tmp / "note.schema.json")},
                "idempotency": {"header": None},
                "sinks": outbox,
            },
            "anything": {"sinks": outbox},
        }
    )
    return config


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("openapi")
    hub = Hub.from_file(write_config(tmp, _config(tmp)))
    try:
        yield create_app(hub, manage=False).openapi()
    finally:
        hub.close()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_every_route_has_an_ingest_operation_with_its_own_required_body(
    document: dict[str, Any],
) -> None:
    paths = document["paths"]
    assert "/ingest/{route}" not in paths  # one template could not say what each route takes
    bodies = {
        path.removeprefix("/ingest/"): item["post"]["requestBody"]
        for path, item in paths.items()
        if path.startswith("/ingest/")
    }
    assert set(bodies) == ROUTES
    assert all(body["required"] for body in bodies.values())  # an empty POST is not valid
    media = {name: next(iter(body["content"].items())) for name, body in bodies.items()}
    assert media["shop-orders"][0] == "application/json"
    assert media["shop-orders"][1]["schema"] == {"$ref": "#/components/schemas/WoocommerceOrder"}
    assert media["anything"] == ("application/json", {"schema": {}})
    for name, media_type, grammar in (
        ("stock-xml", "application/xml", "xml"),
        ("supplier-orders", "application/EDIFACT", "edifact"),
        ("x12-orders", "application/EDI-X12", "x12"),
        ("price-list", "text/csv", "csv"),
    ):
        assert media[name][0] == media_type
        assert media[name][1]["schema"] == {"type": "string", "format": grammar, "minLength": 1}
    assert "one message each" in bodies["supplier-orders"]["description"]
    ids = {paths[f"/ingest/{name}"]["post"]["operationId"] for name in bodies}
    assert "ingest_shop_orders" in ids
    assert len(ids) == len(bodies)


def test_an_input_schema_is_a_component_its_references_rewritten(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    order = schemas["WoocommerceOrder"]
    assert not {"$id", "$schema", "$defs"} & set(order)
    assert order["properties"]["total"] == {"$ref": "#/components/schemas/WoocommerceOrder.money"}
    assert schemas["WoocommerceOrder.money"]["type"] == "string"
    note = schemas["Note"]  # referred to by its $id and by a plain pointer alike
    assert note["properties"]["text"] == {"$ref": "#/components/schemas/Note.line"}
    assert note["properties"]["lines"]["items"] == {"$ref": "#/components/schemas/Note.line"}
    assert schemas["Note.line"] == {"type": "string", "maxLength": 80}
    for ref in _refs(document):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/").split("/")[0] in schemas, ref


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_ingest_examples_are_the_mapping_test_inputs_and_the_idempotency_header(
    document: dict[str, Any],
) -> None:
    operation = document["paths"]["/ingest/shop-orders"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    cases = ROOT / "mappings/tests/woocommerce-order-to-erp"
    assert set(examples) == {p.name.split(".input.")[0] for p in cases.glob("*.input.json")}
    for name, example in examples.items():
        assert example["value"] == json.loads((cases / f"{name}.input.json").read_text("utf-8"))
    [header] = operation["parameters"]
    assert (header["name"], header["in"], header["required"]) == (
        "Idempotency-Key",
        "header",
        False,
    )
    assert "parameters" not in document["paths"]["/ingest/notes"]["post"]  # header: null


def test_ingest_documents_its_answers_and_links_to_the_message(document: dict[str, Any]) -> None:
    answers = document["paths"]["/ingest/shop-orders"]["post"]["responses"]
    assert set(answers) == {"200", "202", "400", "401", "403", "408", "413", "503"}
    accepted = answers["202"]
    assert accepted["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Accepted"
    }
    assert accepted["headers"]["Location"]["required"] is True
    links = accepted["links"]
    assert {link["operationId"] for link in links.values()} == {
        "get_message",
        "get_message_body",
        "get_message_output",
        "get_message_audit",
        "replay_message",
        "discard_message",
    }
    assert all(
        link["parameters"] == {"message_id": "$response.body#/id"} for link in links.values()
    )
    repeat = answers["200"]["content"]["application/json"]["schema"]
    assert {branch["$ref"].rsplit("/", 1)[1] for branch in repeat["anyOf"]} == {
        "Accepted",
        "Acknowledged",
    }
    assert answers["503"]["headers"]["Retry-After"]["schema"]["type"] == "integer"
    assert set(answers["503"]["content"]) == {"application/json", "text/plain"}


def test_every_error_answer_has_the_hubs_shape_never_fastapis(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert not {"HTTPValidationError", "ValidationError"} & set(schemas)
    for method, path, operation in _operations(document):
        for status, answer in operation["responses"].items():
            if int(status) < 400 or path == "/readyz":
                continue
            schema = answer["content"]["application/json"]["schema"]
            assert schema == ERROR, (method, path, status)
    assert schemas["ErrorBody"]["additionalProperties"] is False


#: What every operation that needs a key answers besides its own statuses.
AUTH = {"401", "403"}


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("GET", "/messages", {"200", "400", "404", "422", "503", *AUTH}),
        ("GET", "/dead-letters", {"200", "400", "404", "422", "503", *AUTH}),
        ("GET", "/messages/{message_id}", {"200", "404", "422", "503", *AUTH}),
        ("GET", "/messages/{message_id}/body", {"200", "404", "410", "422", "503", *AUTH}),
        ("GET", "/messages/{message_id}/output", {"200", "404", "410", "422", "503", *AUTH}),
        ("GET", "/messages/{message_id}/audit", {"200", "404", "422", "503", *AUTH}),
        (
            "POST",
            "/messages/{message_id}/replay",
            {"200", "400", "404", "408", "409", "422", "503", *AUTH},
        ),
        (
            "POST",
            "/messages/{message_id}/discard",
            {"200", "400", "404", "408", "409", "422", "503", *AUTH},
        ),
        ("POST", "/dead-letters/replay", {"200", "400", "408", "422", "503", *AUTH}),
        ("POST", "/preview", {"200", "400", "408", "422", "503", *AUTH}),
        ("GET", "/mappings", {"200", "503", *AUTH}),
        ("GET", "/keys", {"200", "503", *AUTH}),
        ("GET", "/sources", {"200", "503", *AUTH}),
        ("GET", "/metrics", {"200", *AUTH}),
        ("GET", "/readyz", {"200", "503"}),
        ("GET", "/healthz", {"200"}),
    ],
)
def test_each_operation_documents_every_status_it_answers_with(
    document: dict[str, Any], method: str, path: str, statuses: set[str]
) -> None:
    assert set(document["paths"][path][method.lower()]["responses"]) == statuses


def test_payload_downloads_name_the_types_they_are_served_as(document: dict[str, Any]) -> None:
    for path in ("/messages/{message_id}/body", "/messages/{message_id}/output"):
        content = document["paths"][path]["get"]["responses"]["200"]["content"]
        assert "text/html" not in content
        assert content["application/json"]["schema"] == {}
        assert content["application/EDIFACT"]["schema"] == {"type": "string"}


def test_preview_takes_exactly_one_mapping_or_a_route(document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"]["PreviewRequest"]
    assert schema["oneOf"] == [
        {"required": ["mapping"]},
        {"required": ["mapping_text"]},
        {"required": ["route"], "properties": {"mapping": False, "mapping_text": False}},
    ]
    for name in ("mapping", "mapping_text", "route"):
        assert schema["properties"][name]["type"] == "string"  # not nullable: null is a 422
    assert schema["required"] == ["input"]


def test_list_filters_are_typed_exactly(document: dict[str, Any]) -> None:
    for path in ("/messages", "/dead-letters"):
        params = {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}
        for name in ("since", "until"):
            time = params[name]["schema"]["anyOf"][0]
            assert (time["type"], time["pattern"]) == ("string", TIME_PATTERN)
            assert "format" not in time  # RFC 3339 alone would not take a date or a local time
        route = params["route"]["schema"]["anyOf"][0]
        assert route["enum"] == sorted(ROUTES)
        assert params["correlation_key"]["schema"]["pattern"] == "^[^\\u0000]*$"


def test_the_served_document_is_the_same(tmp_path: Path) -> None:
    hub = Hub.from_file(write_config(tmp_path, demo_config(tmp_path)))
    with serve_app(create_app(hub)) as url:
        served = httpx.get(f"{url}/openapi.json", timeout=10).json()
        assert served["paths"]["/ingest/shop-orders"]["post"]["requestBody"]["required"]
        empty = httpx.post(f"{url}/ingest/shop-orders", content=b"", timeout=10)
        assert empty.status_code == 400, empty.text  # required, as the document says
        unknown = httpx.post(f"{url}/ingest/shop-ordres", content=b"{}", timeout=10)
        assert unknown.status_code == 404
        assert "shop-orders" in unknown.json()["error"]["hint"]


#: The scope each operation needs (the ingest operations: their route's).
SCOPES = {
    ("GET", "/messages"): "read",
    ("GET", "/dead-letters"): "read",
    ("GET", "/messages/{message_id}"): "read",
    ("GET", "/messages/{message_id}/audit"): "read",
    ("GET", "/mappings"): "read",
    ("GET", "/messages/{message_id}/body"): "read:payload",
    ("GET", "/messages/{message_id}/output"): "read:payload",
    ("POST", "/messages/{message_id}/replay"): "operate",
    ("POST", "/messages/{message_id}/discard"): "operate",
    ("POST", "/dead-letters/replay"): "operate",
    ("POST", "/preview"): "operate",
    ("GET", "/metrics"): "metrics",
    ("GET", "/keys"): "admin",
    ("GET", "/sources"): "read",
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    **{("POST", f"/ingest/{route}"): f"ingest:{route}" for route in ROUTES},
}


def test_every_operation_declares_its_scope_and_the_security_that_grants_it(
    document: dict[str, Any],
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerKey"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "hub_<id>_<secret>",
        "description": schemes["bearerKey"]["description"],
    }
    assert (schemes["apiKeyHeader"]["in"], schemes["apiKeyHeader"]["name"]) == (
        "header",
        "X-API-Key",
    )
    found = {(m, p): op["x-hub-scope"] for m, p, op in _operations(document)}
    assert found == SCOPES  # every operation, none without a scope
    for method, path, operation in _operations(document):
        scope = SCOPES[(method, path)]
        if scope == "public":
            assert operation["security"] == []
            continue
        # the demo config grants ingest, read, read:payload, operate and metrics anonymously
        anonymous = [{}] if scope != "admin" else []
        assert operation["security"] == [
            {"bearerKey": [scope]},
            {"apiKeyHeader": [scope]},
            *anonymous,
        ], (method, path)
        assert f"scope `{scope}`" in operation["description"]


def test_without_an_auth_section_every_operation_but_the_probes_needs_a_key(
    tmp_path: Path,
) -> None:
    hub = Hub.from_file(write_config(tmp_path, demo_config(tmp_path, auth=None)))
    try:
        document = create_app(hub, manage=False).openapi()
    finally:
        hub.close()
    for method, path, operation in _operations(document):
        if path in ("/healthz", "/readyz"):
            assert operation["security"] == []
        else:
            assert {} not in operation["security"], (method, path)
            assert len(operation["security"]) == 2
