"""HTTP inbound (webhooks): the push-source contract kit plus signatures and pings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.http import HttpInbound, HttpInboundOptions
from hub.sdk import Inbound, InboundRejected, InboundRequest
from hub.sdk.testing import PushSourceContract

SECRET = "wc-s3cret"
WC_HEADER = "X-WC-Webhook-Signature"
ORDER = b'{"id": 727, "number": "727", "total": "52.23"}'


def wc_signature(body: bytes, secret: str = SECRET) -> str:
    """What WooCommerce sends: base64 of the HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def request(body: bytes = ORDER, headers: dict[str, str] | None = None) -> InboundRequest:
    return InboundRequest(
        route="shop-orders",
        body=body,
        headers={
            "content-type": "application/json",
            **{k.lower(): v for k, v in (headers or {}).items()},
        },
        remote="127.0.0.1",
    )


WC_OPTIONS: dict[str, Any] = {"signature": {"header": WC_HEADER, "secret": SECRET}}


class TestWooCommerceInboundContract(PushSourceContract):
    source_class = HttpInbound

    @pytest.fixture
    def options(self) -> dict[str, Any]:
        return WC_OPTIONS

    @pytest.fixture
    def good_request(self) -> InboundRequest:
        return InboundRequest(
            route="shop-orders",
            body=ORDER,
            headers={
                "content-type": "application/json",
                "x-wc-webhook-signature": wc_signature(ORDER),
                "x-wc-webhook-topic": "order.created",
            },
        )

    @pytest.fixture
    def bad_request(self) -> InboundRequest:
        return InboundRequest(
            route="shop-orders",
            body=ORDER,
            headers={
                "content-type": "application/json",
                "x-wc-webhook-signature": wc_signature(ORDER, secret="not-the-secret"),
            },
        )


@pytest.fixture
def make_source() -> Iterator[Any]:
    sources: list[HttpInbound] = []

    def make(**options: Any) -> HttpInbound:
        source = HttpInbound("shop-orders", HttpInboundOptions.model_validate(options))
        sources.append(source)
        return source

    yield make
    for source in sources:
        source.close()


def test_correct_signature_is_accepted(make_source: Any) -> None:
    inbound = make_source(**WC_OPTIONS).accept(request(headers={WC_HEADER: wc_signature(ORDER)}))
    assert isinstance(inbound, Inbound)
    assert inbound.body == ORDER
    assert inbound.content_type == "application/json"


def test_signature_with_surrounding_whitespace_is_accepted(make_source: Any) -> None:
    source = make_source(**WC_OPTIONS)
    assert source.accept(request(headers={WC_HEADER: f"  {wc_signature(ORDER)} "})) is not None


def test_missing_signature_header_is_401(make_source: Any) -> None:
    with pytest.raises(InboundRejected) as caught:
        make_source(**WC_OPTIONS).accept(request())
    assert caught.value.status == 401
    assert caught.value.reason == "unauthorized"
    assert WC_HEADER in caught.value.message
    assert "missing" in caught.value.message
    assert caught.value.hint


@pytest.mark.parametrize(
    "signature",
    [
        wc_signature(ORDER, secret="wrong"),
        wc_signature(ORDER + b" "),
        wc_signature(ORDER).lower(),
        hashlib.sha256(ORDER).hexdigest(),
        "garbage",
        " ",
    ],
)
def test_wrong_signature_is_401(make_source: Any, signature: str) -> None:
    with pytest.raises(InboundRejected) as caught:
        make_source(**WC_OPTIONS).accept(request(headers={WC_HEADER: signature}))
    assert caught.value.status == 401
    assert caught.value.reason == "unauthorized"


def test_a_tampered_body_is_refused(make_source: Any) -> None:
    tampered = ORDER.replace(b"52.23", b"0.01")
    with pytest.raises(InboundRejected, match="does not match"):
        make_source(**WC_OPTIONS).accept(
            request(tampered, headers={WC_HEADER: wc_signature(ORDER)})
        )


GITHUB_OPTIONS: dict[str, Any] = {
    "signature": {
        "header": "X-Hub-Signature-256",
        "secret": "gh-secret",
        "encoding": "hex",
        "prefix": "sha256=",
    }
}


def test_hex_signature_with_prefix_github_style(make_source: Any) -> None:
    digest = hmac.new(b"gh-secret", ORDER, hashlib.sha256).hexdigest()
    source = make_source(**GITHUB_OPTIONS)
    inbound = source.accept(request(headers={"X-Hub-Signature-256": f"sha256={digest}"}))
    assert inbound is not None
    assert inbound.body == ORDER


@pytest.mark.parametrize(
    "value",
    [
        hmac.new(b"gh-secret", ORDER, hashlib.sha256).hexdigest(),  # prefix missing
        "sha1=" + hmac.new(b"gh-secret", ORDER, hashlib.sha256).hexdigest(),
        "sha256=" + hmac.new(b"other", ORDER, hashlib.sha256).hexdigest(),
    ],
)
def test_hex_signature_mismatches(make_source: Any, value: str) -> None:
    with pytest.raises(InboundRejected) as caught:
        make_source(**GITHUB_OPTIONS).accept(request(headers={"X-Hub-Signature-256": value}))
    assert caught.value.status == 401


@pytest.mark.parametrize("algorithm", ["sha1", "sha512"])
def test_other_algorithms(make_source: Any, algorithm: str) -> None:
    digest = hmac.new(b"k", ORDER, getattr(hashlib, algorithm)).digest()
    source = make_source(signature={"header": "X-Sig", "secret": "k", "algorithm": algorithm})
    assert source.accept(request(headers={"X-Sig": base64.b64encode(digest).decode()})) is not None


def test_the_secret_is_not_shown_in_options() -> None:
    options = HttpInboundOptions.model_validate(WC_OPTIONS)
    assert SECRET not in repr(options)


# --- WooCommerce ping ------------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"


def ping(
    body: bytes = b"webhook_id=12",
    content_type: str = FORM,
    headers: dict[str, str] | None = None,
) -> InboundRequest:
    return InboundRequest(
        route="shop-orders",
        body=body,
        headers={
            "content-type": content_type,
            **{k.lower(): v for k, v in (headers or {}).items()},
        },
    )


def test_ping_is_acknowledged_without_a_message(make_source: Any) -> None:
    assert make_source().accept(ping()) is None
    assert make_source().accept(ping(content_type=f"{FORM}; charset=UTF-8")) is None
    assert make_source().accept(ping(b"webhook_id=12\r\n")) is None


def test_ping_is_acknowledged_when_a_signature_is_configured(make_source: Any) -> None:
    # WooCommerce sends its ping (WC_Webhook::deliver_ping) without any signature header,
    # and only activates the webhook if the answer is 200. With a secret configured, as
    # every production route should have, the ping must still be acknowledged.
    source = make_source(**WC_OPTIONS)
    assert (
        source.accept(ping(headers={"User-Agent": "WooCommerce/8.9.1 Hookshot (WordPress/6.5)"}))
        is None
    )


def test_signed_ping_is_acknowledged(make_source: Any) -> None:
    body = b"webhook_id=12"
    assert (
        make_source(**WC_OPTIONS).accept(ping(body, headers={WC_HEADER: wc_signature(body)}))
        is None
    )


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"webhook_id=12", "application/json"),
        (b"webhook_id=abc", FORM),
        (b"webhook_id=12&x=1", FORM),
        (b'{"webhook_id": 12}', FORM),
    ],
)
def test_things_that_are_not_pings_are_kept(
    make_source: Any, body: bytes, content_type: str
) -> None:
    inbound = make_source().accept(ping(body, content_type))
    assert inbound is not None
    assert inbound.body == body


def test_pings_can_be_stored_when_acknowledging_is_off(make_source: Any) -> None:
    inbound = make_source(acknowledge_pings=False).accept(ping())
    assert inbound is not None
    assert inbound.body == b"webhook_id=12"


# --- kept headers -----------------------------------------------------------------------


def test_standard_headers_are_kept_and_others_dropped(make_source: Any) -> None:
    inbound = make_source().accept(
        request(
            headers={
                "User-Agent": "WooCommerce/8.9.1",
                "X-Request-Id": "r-1",
                "Idempotency-Key": "k-1",
                "Cookie": "session=1",
                "Authorization": "Basic x",
                "X-WC-Webhook-Topic": "order.created",
            }
        )
    )
    assert inbound is not None
    assert inbound.headers == {
        "content-type": "application/json",
        "user-agent": "WooCommerce/8.9.1",
        "x-request-id": "r-1",
        "idempotency-key": "k-1",
    }


def test_extra_headers_to_keep_are_matched_case_insensitively(make_source: Any) -> None:
    source = make_source(keep_headers=["X-WC-Webhook-Topic", "x-wc-webhook-delivery-id"])
    inbound = source.accept(
        request(headers={"X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Delivery-ID": "d1"})
    )
    assert inbound is not None
    assert inbound.headers["x-wc-webhook-topic"] == "order.created"
    assert inbound.headers["x-wc-webhook-delivery-id"] == "d1"


def test_no_content_type(make_source: Any) -> None:
    inbound = make_source().accept(InboundRequest(route="r", body=b"{}"))
    assert inbound is not None
    assert inbound.content_type is None
    assert inbound.headers == {}


@pytest.mark.parametrize(
    "options",
    [
        {"signature": {"header": "X"}},
        {"signature": {"header": "X", "secret": "s", "algorithm": "md5"}},
        {"signature": {"header": "X", "secret": "s", "encoding": "base32"}},
        {"signature": {"header": "X", "secret": "s", "bogus": 1}},
    ],
)
def test_bad_signature_options_are_rejected(options: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        HttpInboundOptions.model_validate(options)


# -- replay protection: a signed timestamp and a tolerance ------------------------------------

SLACK_OPTIONS: dict[str, Any] = {
    "signature": {
        "header": "X-Slack-Signature",
        "secret": SECRET,
        "encoding": "hex",
        "prefix": "v0=",
        "timestamp_header": "X-Slack-Request-Timestamp",
        "signed_payload": "v0:{timestamp}:{body}",
        "tolerance_seconds": 300,
    }
}
STRIPE_LIKE: dict[str, Any] = {
    "signature": {
        "header": "X-Signature",
        "secret": SECRET,
        "encoding": "hex",
        "timestamp_header": "X-Timestamp",
    }
}


def slack_request(stamp: float | str, body: bytes = ORDER, signed_stamp: str | None = None) -> Any:
    text = str(stamp if isinstance(stamp, str) else int(stamp))
    payload = f"v0:{signed_stamp or text}:".encode() + body
    digest = hmac.new(SECRET.encode(), payload, hashlib.sha256).hexdigest()
    return request(body, {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": text})


def test_a_fresh_signed_timestamp_is_accepted(make_source: Any) -> None:
    inbound = make_source(**SLACK_OPTIONS).accept(slack_request(time.time()))
    assert isinstance(inbound, Inbound)
    assert inbound.body == ORDER


def test_the_default_signed_payload_is_timestamp_dot_body(make_source: Any) -> None:
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"{stamp}.".encode() + ORDER, hashlib.sha256).hexdigest()
    source = make_source(**STRIPE_LIKE)
    assert source.accept(request(ORDER, {"X-Signature": digest, "X-Timestamp": stamp}))
    body_only = hmac.new(SECRET.encode(), ORDER, hashlib.sha256).hexdigest()
    with pytest.raises(InboundRejected, match="does not match"):
        source.accept(request(ORDER, {"X-Signature": body_only, "X-Timestamp": stamp}))


def test_a_replay_signed_long_ago_is_refused_with_a_hint(make_source: Any) -> None:
    with pytest.raises(InboundRejected) as caught:
        make_source(**SLACK_OPTIONS).accept(slack_request(time.time() - 3600))
    refused = caught.value
    assert refused.status == 401
    assert refused.reason == "stale"
    assert refused.message.startswith("the request was signed 36")
    assert "this route accepts at most 300 s" in refused.message
    assert refused.hint is not None
    assert "replayed" in refused.hint
    assert refused.where == "header X-Slack-Request-Timestamp"


def test_a_timestamp_in_the_future_is_refused(make_source: Any) -> None:
    with pytest.raises(InboundRejected) as caught:
        make_source(**SLACK_OPTIONS).accept(slack_request(time.time() + 3600))
    assert caught.value.status == 401
    assert "in the future" in caught.value.message
    assert caught.value.hint is not None
    assert "clock" in caught.value.hint


def test_a_timestamp_changed_after_signing_is_refused(make_source: Any) -> None:
    old = str(int(time.time()) - 3600)
    forged = slack_request(time.time(), signed_stamp=old)  # an old signature, a new time
    with pytest.raises(InboundRejected, match="does not match") as caught:
        make_source(**SLACK_OPTIONS).accept(forged)
    assert caught.value.reason == "unauthorized"


@pytest.mark.parametrize("stamp", ["", "yesterday", "-5", "1e9", "0x10"])
def test_a_missing_or_unreadable_timestamp_is_401(make_source: Any, stamp: str) -> None:
    with pytest.raises(InboundRejected) as caught:
        make_source(**SLACK_OPTIONS).accept(slack_request(stamp))
    assert caught.value.status == 401
    assert "X-Slack-Request-Timestamp" in caught.value.message


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        ({"signed_payload": "{timestamp}.{body}"}, "set timestamp_header"),
        ({"timestamp_header": "X-T", "signed_payload": "{body}"}, "must contain {timestamp}"),
        ({"signed_payload": "{body}{body}"}, "exactly once"),
        ({"signed_payload": "{id}.{body}"}, "unknown placeholder"),
        ({"timestamp_header": "X-T", "tolerance_seconds": 0}, "greater than 0"),
    ],
)
def test_replay_protection_options_are_checked(signature: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        HttpInboundOptions.model_validate(
            {"signature": {"header": "X", "secret": "s", **signature}}
        )
