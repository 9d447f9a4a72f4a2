"""The ``http-pull`` source against a local shop API (tests/shop_api.py, WooCommerce's
contract): the contract kit, pagination styles, watermark, auth, rate limits, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from connectors.http.pull import HttpPullOptions, HttpPullSource
from hub.sdk import PollSource, RetriableSourceError, SourceError
from hub.sdk.testing import PollSourceContract, drain
from tests.peers import free_port
from tests.shop_api import KEY, SECRET, Shop, running_shop


@pytest.fixture
def shop(monkeypatch: pytest.MonkeyPatch) -> Iterator[Shop]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with running_shop() as running:
        yield running


def _woo(shop: Shop, **more: Any) -> dict[str, Any]:
    return {
        "url": f"{shop.url}/wp-json/wc/v3/orders",
        "params": {"orderby": "modified", "order": "asc"},
        "username": KEY,
        "password": SECRET,
        "since_param": "modified_after",
        "watermark_path": "date_modified_gmt",
        **more,
    }


class TestHttpPullContract(PollSourceContract):
    source_class = HttpPullSource

    @pytest.fixture
    def options(self, shop: Shop) -> dict[str, Any]:
        return _woo(shop)

    @pytest.fixture
    def unreachable_options(self) -> dict[str, Any]:
        return {"url": f"http://127.0.0.1:{free_port()}/wp-json/wc/v3/orders"}

    @pytest.fixture(autouse=True)
    def _shop(self, shop: Shop) -> None:
        self.shop = shop

    def put(self, source: PollSource[Any], bodies: list[bytes]) -> None:
        for body in bodies:
            self.shop.add({"payload": body.decode("latin-1")})

    def _bodies(self, items: list[Any]) -> list[bytes]:
        return [json.loads(i.inbound.body)["payload"].encode("latin-1") for i in items]


_OPEN: list[HttpPullSource] = []


@pytest.fixture(autouse=True)
def _close_sources(shop: Shop) -> Iterator[None]:
    """Closes the sources a test made before the shop server stops (their keep-alive
    connections would outlive it otherwise)."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def _source(**options: Any) -> HttpPullSource:
    source = HttpPullSource("shop", HttpPullOptions.model_validate(options))
    _OPEN.append(source)
    return source


def test_link_pages_are_followed_and_the_watermark_moves_on(shop: Shop) -> None:
    for n in range(25):
        shop.add({"n": n})
    source = _source(**_woo(shop, page_size=10))
    first = source.poll(None, 100)
    assert len(first.items) == 10
    assert first.more
    items, cursor = drain(source, first.cursor)
    assert [json.loads(i.inbound.body)["n"] for i in [*first.items, *items]] == list(range(25))
    assert json.loads(cursor or "{}") == {"since": "2026-11-30T10:00:25"}
    shop.add({"n": 25})
    later, _ = drain(source, cursor)
    # the inclusive watermark gives the newest old order again, under its old key
    assert [json.loads(i.inbound.body)["n"] for i in later] == [24, 25]
    assert later[0].key == items[-1].key


def test_body_cursor_pagination(shop: Shop) -> None:
    for n in range(7):
        shop.add({"n": n})
    source = _source(
        url=f"{shop.url}/api/records",
        username=KEY,
        password=SECRET,
        items_path="data",
        pagination="cursor",
        page_size_param="limit",
        page_size=3,
    )
    items, _ = drain(source, None, limit=3, confirm=True)
    assert [json.loads(i.inbound.body)["n"] for i in items] == list(range(7))


def test_page_number_pagination_stops_at_a_short_page(shop: Shop) -> None:
    for n in range(5):
        shop.add({"n": n})
    source = _source(**_woo(shop, pagination="page", page_size=2))
    items, _ = drain(source, None, limit=2, confirm=True)
    assert [json.loads(i.inbound.body)["n"] for i in items] == list(range(5))


def test_wrong_credentials_are_an_error_for_a_person(shop: Shop) -> None:
    source = _source(**_woo(shop, password="wrong"))
    with pytest.raises(SourceError, match="answered 401") as caught:
        source.poll(None, 10)
    assert not isinstance(caught.value, RetriableSourceError)
    assert "credentials" in (caught.value.hint or "")
    assert "wrong" not in str(caught.value)


def test_429_is_retriable_with_the_partners_retry_after(shop: Shop) -> None:
    shop.throttle_every = 1
    with pytest.raises(RetriableSourceError, match="answered 429") as caught:
        _source(**_woo(shop)).poll(None, 10)
    assert caught.value.retry_after == 1.0


def test_records_without_an_id_are_named(shop: Shop) -> None:
    shop.add({"n": 1})
    with pytest.raises(SourceError, match="has no `order_id`") as caught:
        _source(**_woo(shop, id_path="order_id")).poll(None, 10)
    assert caught.value.where == "(body)[0].order_id"


def test_half_given_auth_is_refused_at_load() -> None:
    with pytest.raises(ValueError, match="both username and password"):
        HttpPullOptions.model_validate({"url": "http://x/", "username": "me"})
    with pytest.raises(ValueError, match="both since_param and watermark_path"):
        HttpPullOptions.model_validate({"url": "http://x/", "since_param": "after"})
