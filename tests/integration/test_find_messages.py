"""From an order number to its messages: ``GET /messages`` and ``hub messages list|find``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.api import create_app
from hub.runtime import Hub
from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.integration.test_cli import hub as cli
from tests.peers import Reply, http_peer, serve_app


@dataclass
class Orders:
    """Orders 1-5 on a real hub: 1 and 4 delivered, 2 failed, 3 retrying, 5 received."""

    client: httpx.Client
    hub: Hub
    config: Path
    ids: dict[str, str]

    def post(self, number: str, **changes: Any) -> str:
        order = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
        order.update(number=number, **changes)
        response = self.client.post("/ingest/shop-orders", json=order)
        assert response.status_code == 202, response.text
        message_id: str = response.json()["id"]
        self.ids[number] = message_id
        return message_id

    def numbers(self, listed: list[dict[str, Any]]) -> list[str]:
        return [m["correlation_key"] for m in listed]


@pytest.fixture
def orders(tmp_path: Path) -> Iterator[Orders]:
    with http_peer() as peer:
        sinks = [{"name": "partner", "type": "http", "options": {"url": peer.url}}]
        worker = {"enabled": False, "poll_interval_seconds": 0.1}  # turns run by the test
        config = write_config(tmp_path, demo_config(tmp_path, sinks=sinks, worker=worker))
        hub = Hub.from_file(config)
        with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as client:
            made = Orders(client, hub, config, {})
            peer.replies = [Reply(201), Reply(503), Reply(201)]  # for orders 1, 3 and 4
            for number in ("1", "2", "3", "4"):
                made.post(number, currency="euro" if number == "2" else "EUR")
            assert hub.worker.run_once() == 4
            made.post("5")
            yield made


def test_filters_combine_and_the_newest_comes_first(orders: Orders) -> None:
    client = orders.client
    everything = client.get("/messages").json()
    assert everything["next_cursor"] is None
    listed = everything["messages"]
    assert orders.numbers(listed) == ["5", "4", "3", "2", "1"]
    assert [m["status"] for m in listed] == [
        "received",
        "delivered",
        "retrying",
        "failed",
        "delivered",
    ]
    assert listed[3]["error"]["stage"] == "validate"
    assert listed[3]["id"] == orders.ids["2"]

    several = client.get("/messages", params=[("status", "failed"), ("status", "retrying")])
    assert orders.numbers(several.json()["messages"]) == ["3", "2"]
    by_key = client.get("/messages", params={"correlation_key": "3"}).json()["messages"]
    assert [(m["id"], m["route"], m["status"]) for m in by_key] == [
        (orders.ids["3"], "shop-orders", "retrying")
    ]
    delivered = client.get("/messages", params={"route": "shop-orders", "status": "delivered"})
    assert orders.numbers(delivered.json()["messages"]) == ["4", "1"]

    third = listed[2]["received_at"]  # since is inclusive, until exclusive
    after = client.get("/messages", params={"since": third}).json()["messages"]
    assert orders.numbers(after) == ["5", "4", "3"]
    before = client.get("/messages", params={"until": third}).json()["messages"]
    assert orders.numbers(before) == ["2", "1"]
    naive = client.get("/messages", params={"since": "2000-01-01T00:00:00"})  # no zone: UTC
    assert naive.status_code == 200, naive.text
    assert len(naive.json()["messages"]) == 5


def test_pages_follow_the_cursor_without_gaps_or_repeats(orders: Orders) -> None:
    client = orders.client
    first = client.get("/messages", params={"limit": 2}).json()
    assert orders.numbers(first["messages"]) == ["5", "4"]
    orders.post("6")  # arrives between two pages: an offset would repeat order 4
    second = client.get("/messages", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert orders.numbers(second["messages"]) == ["3", "2"]
    last = client.get("/messages", params={"limit": 2, "cursor": second["next_cursor"]}).json()
    assert orders.numbers(last["messages"]) == ["1"]
    assert last["next_cursor"] is None
    exact = client.get("/messages", params={"limit": 6}).json()
    assert len(exact["messages"]) == 6
    assert exact["next_cursor"] is None  # no empty page to fetch after the last one


@pytest.mark.parametrize(
    ("params", "status", "where"),
    [
        ({"status": "lost"}, 422, "query/status/0"),
        ({"since": "yesterday"}, 422, "query/since"),
        ({"limit": 0}, 422, "query/limit"),
        ({"limit": 1001}, 422, "query/limit"),
        ({"cursor": "abc"}, 422, "query/cursor"),
        ({"cursor": 0}, 422, "query/cursor"),
        ({"cursor": 2**31}, 422, "query/cursor"),  # was a 500: too large for the database
        ({"cursor": 16460138500261668716544}, 422, "query/cursor"),
        ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, 400, "since, until"),
        # a number is not a time (pydantic took it as seconds since 1970), nor is 30 February
        ({"until": "0.5"}, 422, "query/until"),
        ({"since": "1700000000"}, 422, "query/since"),
        ({"since": "2026-02-30"}, 422, "query/since"),
        ({"since": "2026-11-23 14:05"}, 422, "query/since"),
    ],
)
def test_a_bad_parameter_is_named_never_a_500_or_sql(
    orders: Orders, params: dict[str, Any], status: int, where: str
) -> None:
    response = orders.client.get("/messages", params=params)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    located = [error.get("where")] + [p["where"] for p in error.get("problems", [])]
    assert where in located
    assert "SELECT" not in response.text


@pytest.mark.parametrize("path", ["/messages", "/dead-letters"])
def test_times_are_iso_8601_in_every_documented_form(orders: Orders, path: str) -> None:
    for since in (
        "2000-01-01",
        "2000-01-01T00:00",
        "2000-01-01T00:00:00.5",
        "2000-01-01T00:00:00Z",
        "2000-01-01t01:00:00+01:00",
        "0001-01-01T00:00:00+23:59",  # before year 1 in UTC: the earliest time there is
    ):
        answer = orders.client.get(path, params={"since": since})
        assert answer.status_code == 200, (since, answer.text)
    late = orders.client.get(path, params={"until": "9999-12-31T23:59:59-23:59"})
    assert late.status_code == 200, late.text  # past year 9999 in UTC: the end of time


def test_an_unknown_route_is_a_404_naming_the_routes(orders: Orders) -> None:
    for path in ("/messages", "/dead-letters"):
        response = orders.client.get(path, params={"route": "shop-ordres"})
        assert response.status_code == 404
        assert "shop-orders" in response.json()["error"]["hint"]


def test_dead_letters_take_several_statuses_and_times_without_a_zone(orders: Orders) -> None:
    client = orders.client
    naive = client.get("/dead-letters", params={"since": "2000-01-01T00:00:00"})
    assert naive.status_code == 200, naive.text  # was a 503 quoting the SQL
    assert orders.numbers(naive.json()) == ["2"]
    both = client.get("/dead-letters", params=[("status", "failed"), ("status", "retrying")])
    assert orders.numbers(both.json()) == ["3", "2"]


def test_the_openapi_document_describes_the_parameters_and_errors(orders: Orders) -> None:
    schema = orders.client.get("/openapi.json").json()
    operation = schema["paths"]["/messages"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert set(params) == {
        "correlation_key",
        "route",
        "status",
        "error_type",
        "since",
        "until",
        "limit",
        "cursor",
        "awaiting_ack",
    }
    assert params["awaiting_ack"]["schema"]["anyOf"][0]["enum"] == ["any", "overdue"]
    status = params["status"]["schema"]["anyOf"][0]
    assert status["type"] == "array"
    assert status["items"] == {"$ref": "#/components/schemas/MessageStatus"}
    assert params["limit"]["schema"]["maximum"] == 1000
    for code in ("400", "404", "422", "503"):
        answer = operation["responses"][code]["content"]["application/json"]["schema"]
        assert answer == {"$ref": "#/components/schemas/ErrorBody"}
    listing = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert listing == {"$ref": "#/components/schemas/MessageListView"}


def test_the_cli_lists_and_finds_by_order_number(orders: Orders) -> None:
    config = str(orders.config)

    def lines(*args: str) -> list[dict[str, Any]]:
        result = cli(*args, "--config", config)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]

    several = lines("messages", "list", "--status", "failed", "--status", "retrying")
    assert orders.numbers(several) == ["3", "2"]
    assert several[1]["error"].startswith("validate/validation_error: ")
    found = lines("messages", "find", "3")
    assert [(m["id"], m["route"], m["status"]) for m in found] == [
        (orders.ids["3"], "shop-orders", "retrying")
    ]
    assert orders.numbers(lines("messages", "list", "--since", "2000-01-01")) == list("54321")
    assert orders.numbers(lines("dead-letters", "list", "--since", "2000-01-01")) == ["2"]
    both = lines("dead-letters", "list", "--status", "failed", "--status", "received")
    assert orders.numbers(both) == ["5", "2"]

    page = cli("messages", "list", "--limit", "2", "--config", config)
    assert orders.numbers([json.loads(line) for line in page.stdout.splitlines()]) == ["5", "4"]
    cursor = page.stderr.split("--cursor ")[1].split()[0]
    rest = lines("messages", "list", "--limit", "2", "--cursor", cursor)
    assert orders.numbers(rest) == ["3", "2"]

    nothing = cli("messages", "find", "999", "--config", config)
    assert nothing.returncode == 0
    assert nothing.stdout == ""
    assert "no message has the correlation key '999'" in nothing.stderr
    typo = cli("messages", "list", "--route", "shop-ordres", "--config", config)
    assert typo.returncode == 1
    assert "routes in this config: shop-orders" in typo.stderr
    bad_time = cli("messages", "list", "--since", "2026-13-01", "--config", config)
    assert bad_time.returncode == 2
    assert "--since" in bad_time.stderr


def test_the_not_found_hint_names_commands_that_exist(orders: Orders) -> None:
    missing = cli("messages", "show", "no-such-id", "--config", str(orders.config))
    assert missing.returncode == 1
    assert "`hub messages find KEY`" in missing.stderr
    assert "GET /messages?correlation_key=KEY" in missing.stderr
    found = cli("messages", "find", "1", "--config", str(orders.config))
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["id"] == orders.ids["1"]
    assert orders.client.get("/messages", params={"correlation_key": "1"}).status_code == 200
