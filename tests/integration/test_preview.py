"""``POST /preview``: a mapping run on a submitted input under real uvicorn, nothing stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.api import create_app
from hub.runtime import Hub
from tests.configs import EXAMPLE_ORDER, demo_config, write_config
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
