"""``POST /preview``: a mapping run on a submitted input under real uvicorn, nothing stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.api import create_app
from hub.runtime import Hub
from tests.configs import EXAMPLE_ORDER, ROOT, demo_config, write_config
from tests.peers import serve_app

SMALL = """\
name: small
fields:
  order:
    fields:
      number: {path: number, required: true}
      first_sku: line_items[0].sku
"""


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "small.yaml").write_text(SMALL, encoding="utf-8")
    hub = Hub.from_file(write_config(tmp_path, demo_config(tmp_path)))
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client


def test_a_route_mapping_by_name_on_a_json_value(client: httpx.Client) -> None:
    order = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    response = client.post("/preview", json={"mapping": "woocommerce-order-to-erp", "input": order})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["output"]["order_number"] == "727"
    assert len(body["output"]["lines"]) == 3
    assert json.loads(body["encoded"]) == body["output"]
    assert body["mapping"]["name"] == "woocommerce-order-to-erp"
    assert len(body["mapping"]["hash"]) == 16


def test_a_file_beside_the_config_on_text_input_with_an_output_format(
    client: httpx.Client,
) -> None:
    response = client.post(
        "/preview",
        json={
            "mapping": "small",
            "input": '{"number": "9", "line_items": [{"sku": "A"}]}',
            "output_format": "xml",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["output"] == {"order": {"number": "9", "first_sku": "A"}}
    assert "<number>9</number>" in body["encoded"]
    assert "<first_sku>A</first_sku>" in body["encoded"]
    assert body["mapping"]["name"] == "small"


def test_submitted_mapping_text(client: httpx.Client) -> None:
    response = client.post(
        "/preview", json={"mapping_text": SMALL.replace("small", "draft"), "input": {"number": 1}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["output"] == {"order": {"number": 1}}
    assert response.json()["mapping"]["name"] == "draft"


def test_load_errors_point_into_the_submitted_text(client: httpx.Client) -> None:
    text = "name: broken\nfields:\n  a: {path: 'x[y'}\n  b: {pth: c}\n"
    response = client.post("/preview", json={"mapping_text": text, "input": {}})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "config_error"
    wheres = [p["where"] for p in error["problems"]]
    assert "mapping_text:3:15" in wheres
    assert any(w.startswith("mapping_text:4:") for w in wheres)
    assert all(p["message"] for p in error["problems"])


def test_decode_and_run_time_errors_are_422_with_problems(client: httpx.Client) -> None:
    response = client.post("/preview", json={"mapping": "small", "input": '{"number": '})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "decode_error"
    assert error["problems"][0]["message"]

    response = client.post("/preview", json={"mapping": "small", "input": {"no": "number"}})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "mapping_error"
    assert "order.number" in error["problems"][0]["message"]


@pytest.mark.parametrize(
    "request_body",
    [
        {"mapping": "nope", "input": {}},
        {"mapping": "../hub", "input": {}},
        {"mapping": "small", "mapping_text": SMALL, "input": {}},
        {"input": {}},
        {"mapping": "small", "input": {}, "input_format": "no-such-format"},
        {"mapping": "small", "input": {}, "output_options": {"indent": "wide"}},
        {"mapping": "small", "input": {"a": 1}, "input_format": "xml"},
        {"mapping": "small"},
        {"mapping_text": "[unclosed", "input": {}},
        {"mapping_text": "", "input": {}},
    ],
)
def test_bad_requests_are_422_never_500(client: httpx.Client, request_body: object) -> None:
    response = client.post("/preview", json=request_body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"]


@pytest.mark.parametrize("field", ["mapping", "mapping_text", "route"])
def test_a_null_mapping_or_route_is_named_not_taken_as_absent(
    client: httpx.Client, field: str
) -> None:
    """The document says each is a string when given; `null` beside a name was taken as
    "not given" and answered, so the document's `oneOf` did not hold."""
    response = client.post("/preview", json={"mapping": "small", field: None, "input": {}})
    assert response.status_code == 422, response.text
    [problem] = response.json()["error"]["problems"]
    assert problem["where"] == f"body/{field}"
    assert "leave the field out" in problem["message"]


@pytest.fixture
def editable(tmp_path: Path) -> Iterator[tuple[httpx.Client, Path]]:
    """The demo route on a copy of its mapping that the test may edit (no hot reload)."""
    mapping = tmp_path / "woocommerce-order-to-erp.yaml"
    mapping.write_text(
        (ROOT / "mappings" / "woocommerce-order-to-erp.yaml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    config = demo_config(tmp_path)
    config["routes"]["shop-orders"]["mapping"] = str(mapping)
    config["mappings"] = {"reload_seconds": 0}
    hub = Hub.from_file(write_config(tmp_path, config))
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client, mapping


ORDER = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))


def test_a_mapping_by_name_runs_the_file_on_disk_and_says_so(
    editable: tuple[httpx.Client, Path],
) -> None:
    client, mapping = editable
    request = {"mapping": "woocommerce-order-to-erp", "input": ORDER}
    served = client.post("/preview", json=request).json()["mapping"]
    assert served["source"] == "file"
    assert served["path"] == str(mapping)
    assert served["hash"] == served["serving_hash"]
    assert served["same_as_serving"] is True

    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace("  note: customer_note", '  note: {value: "saved"}'))
    body = client.post("/preview", json=request).json()
    assert body["output"]["note"] == "saved"  # what the admin just saved, not what runs
    assert body["mapping"]["serving_hash"] == served["hash"] != body["mapping"]["hash"]
    assert body["mapping"]["same_as_serving"] is False

    mapping.write_text(text.replace("fields:\n", "fields: [unclosed\n", 1))
    response = client.post("/preview", json=request)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["problems"][0]["where"].startswith(f"{mapping}:")
    assert error["hint"] == f"the routes keep serving version {served['hash']} until the file loads"


def test_a_route_applies_its_input_and_output_schemas(
    editable: tuple[httpx.Client, Path],
) -> None:
    client, _ = editable
    response = client.post("/preview", json={"route": "shop-orders", "input": ORDER})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["route"] == "shop-orders"
    assert body["warnings"] == []
    assert body["output"]["order_number"] == "727"
    assert json.loads(body["encoded"]) == body["output"]

    bad = {**ORDER, "billing": {**ORDER["billing"]}}
    del bad["billing"]["email"]
    response = client.post("/preview", json={"route": "shop-orders", "input": bad})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "validation_error"
    assert error["message"].startswith("the input breaks woocommerce-order.schema.json")
    assert error["problems"][0]["where"] == "input#/billing"

    erp = (ROOT / "mappings" / "woocommerce-order-to-erp.yaml").read_text(encoding="utf-8")
    typed = erp.replace("  note: customer_note", "  note: id")
    response = client.post(
        "/preview", json={"route": "shop-orders", "mapping_text": typed, "input": ORDER}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"].startswith("the output breaks erp-order.schema.json")
    assert error["problems"][0]["where"] == "output#/note"


def test_a_route_checks_the_mapping_against_its_schemas(
    editable: tuple[httpx.Client, Path],
) -> None:
    client, _ = editable
    erp = (ROOT / "mappings" / "woocommerce-order-to-erp.yaml").read_text(encoding="utf-8")
    line = erp.splitlines().index("  note: customer_note") + 1
    misspelt = erp.replace("  note: customer_note", "  note: shiping_lines[0].method_title")
    response = client.post(
        "/preview", json={"route": "shop-orders", "mapping_text": misspelt, "input": ORDER}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "note" not in body["output"]  # silently missing without the check
    assert [(w["where"], w["severity"]) for w in body["warnings"]] == [
        (f"mapping_text:{line}:9", "warning")
    ]
    assert body["warnings"][0]["hint"].startswith("did you mean shipping_lines")
    assert body["mapping"]["source"] == "text"

    forbidden = erp.replace("  note: customer_note", "  notes: customer_note")
    response = client.post(
        "/preview", json={"route": "shop-orders", "mapping_text": forbidden, "input": ORDER}
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"] == (
        "the mapping does not fit the schemas of route 'shop-orders': 1 problem"
    )
    assert error["problems"][0]["where"] == f"mapping_text:{line}:3"


@pytest.mark.parametrize(
    ("request_body", "hint"),
    [
        (
            {"mapping": "woocomerce-order-to-erp", "input": {}},
            "did you mean woocommerce-order-to-erp?",
        ),
        ({"route": "shop-order", "input": {}}, "did you mean shop-orders?"),
    ],
)
def test_unknown_names_get_did_you_mean(
    client: httpx.Client, request_body: object, hint: str
) -> None:
    response = client.post("/preview", json=request_body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["hint"] == hint


# --- files a preview names stay inside the config's folders (issue 9) -------------------


def _target(schema: str) -> str:
    return f"name: t\ntarget: {{format: json, schema: {json.dumps(schema)}}}\nfields:\n  x: a\n"


@pytest.mark.parametrize("schema", ["/etc/passwd", "../../../etc/passwd", "missing.json"])
def test_a_target_schema_outside_the_config_folder_is_not_read(
    client: httpx.Client, schema: str
) -> None:
    response = client.post("/preview", json={"mapping_text": _target(schema), "input": {}})
    assert response.status_code == 422, response.text
    problem = response.json()["error"]["problems"][0]
    assert problem["message"] == f"target schema not found: {schema}"  # outside = missing
    assert problem["where"] == "mapping_text:2:24"


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        (
            {"input_format": "csv", "input_options": {"schema": "/etc/passwd"}},
            "schema not found: /etc/passwd",
        ),
        (
            {"input_format": "xml", "input_options": {"xsd": "/etc/shadow"}},
            "xsd not found: /etc/shadow",
        ),
        (
            {"output_format": "xml", "output_options": {"xsd": "../../etc/shadow"}},
            "xsd not found: ../../etc/shadow",
        ),
        (
            {"input_format": "xml", "input_options": {"xsd": "missing.xsd"}},
            "xsd not found: missing.xsd",
        ),
    ],
)
def test_codec_options_naming_files_outside_are_refused(
    client: httpx.Client, request_body: dict[str, object], message: str
) -> None:
    body = {"mapping": "small", "input": "a", **request_body}
    response = client.post("/preview", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"] == message


def test_a_mapping_name_whose_file_links_outside_is_unknown(
    client: httpx.Client, tmp_path: Path
) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    outside.write_text(SMALL.replace("small", "evil"), encoding="utf-8")
    (tmp_path / "mappings" / "evil.yaml").symlink_to(outside)
    response = client.post("/preview", json={"mapping": "evil", "input": {}})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"] == "no mapping named 'evil'"


def test_a_submitted_mapping_reads_its_files_beside_the_saved_ones(
    client: httpx.Client, tmp_path: Path
) -> None:
    schema = {"type": "object", "properties": {"number": {}}}
    (tmp_path / "mappings" / "out.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    text = "name: t\ntarget: {schema: out.schema.json}\nfields:\n  number: number\n"
    response = client.post("/preview", json={"mapping_text": text, "input": {"number": 1}})
    assert response.status_code == 200, response.text
    assert response.json()["output"] == {"number": 1}


def test_a_preview_past_the_values_limit_is_a_422_naming_it(tmp_path: Path) -> None:
    config = demo_config(tmp_path)
    config["mappings"] = {"limits": {"max_values": 50}}
    hub = Hub.from_file(write_config(tmp_path, config))
    text = "name: t\nfields:\n  rows:\n    each: items\n    fields:\n      a: i\n"
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
        items = [{"i": n} for n in range(30)]
        response = client.post("/preview", json={"mapping_text": text, "input": {"items": items}})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["type"] == "mapping_error"
    assert error["message"] == (
        "rows: the run produces more than 50 values (limit mappings.limits.max_values)"
    )
    assert error["hint"] == (
        "raise mappings.limits.max_values in the config if the input is legitimate"
    )


@pytest.mark.parametrize("as_text", [False, True])
def test_an_output_nested_too_deeply_to_answer_is_a_422(
    client: httpx.Client, as_text: bool
) -> None:
    """An input 300 levels deep copied to the output: pydantic could not serialize it (500)."""
    deep = "[" * 300 + "]" * 300
    body = {
        "mapping_text": "name: t\nfields:\n  x: $\n",
        "input": deep if as_text else json.loads(deep),
    }
    response = client.post("/preview", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    # The decoding limits (limits.max_depth, 100) now refuse such a document before the
    # mapping runs; a limit raised past the preview's own bound (200) meets that one.
    assert error["message"] == "the tree nests 101 levels deep, more than max_depth allows (100)"
